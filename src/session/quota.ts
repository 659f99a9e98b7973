/**
 * Quota (Genode's RAM and capability quota): every domain has an account of
 * ring-memory bytes and of handles. The root's is given at boot; a child's is
 * donated by its parent at spawn and goes back when the child is freed; a session's
 * is moved from its client into the session (held there, in escrow, for the server)
 * as one transaction and goes back when the session ends. So no byte or handle is
 * ever made or lost: the accounts plus the sessions' escrows always add up to the
 * root's boot quota.
 */
export interface Quota {
  /** Ring-memory bytes. */
  bytes: number
  /** Handles. */
  handles: number
}

/** The root's quota when boot() is given none: 256 MiB of channels, 65536 handles. */
export const DEFAULT_ROOT_QUOTA: Readonly<Quota> = Object.freeze({
  bytes: 256 * 1024 * 1024,
  handles: 65536,
})

/**
 * What a parent donates to a child spawned without a `quota` option: this, or
 * what the parent has left if that is less (a default share never fails a spawn).
 */
export const DEFAULT_CHILD_SHARE: Readonly<Quota> = Object.freeze({
  bytes: 1024 * 1024,
  handles: 64,
})

/** A session's handle costs one handle of the donated quota. */
export const SESSION_HANDLE_COST = 1

function amount(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${String(v)}`)
  }
  return v
}

/**
 * A quota argument: `{ bytes?, handles? }`, each a non-negative safe integer;
 * absent fields are `dflt`'s. TypeError for a non-object, RangeError for a bad amount.
 */
export function quotaArg(x: unknown, dflt: Readonly<Quota>, what = 'quota'): Quota {
  if (x === undefined || x === null) return { bytes: dflt.bytes, handles: dflt.handles }
  if (typeof x !== 'object' || Array.isArray(x)) {
    throw new TypeError(`${what} must be an object { bytes?, handles? }`)
  }
  const q = x as { bytes?: unknown; handles?: unknown }
  for (const k of Object.keys(q)) {
    if (k !== 'bytes' && k !== 'handles') {
      throw new TypeError(`${what} has an unknown field '${k}' (it has bytes and handles)`)
    }
  }
  return {
    bytes: q.bytes === undefined ? dflt.bytes : amount(q.bytes, `${what}.bytes`),
    handles: q.handles === undefined ? dflt.handles : amount(q.handles, `${what}.handles`),
  }
}

/** True when `have` covers `want` in both kinds. */
export function covers(have: Readonly<Quota>, want: Readonly<Quota>): boolean {
  return have.bytes >= want.bytes && have.handles >= want.handles
}

/** `q` as text: "65536 bytes and 2 handles". */
export function showQuota(q: Readonly<Quota>): string {
  return `${q.bytes} bytes and ${q.handles} handle${q.handles === 1 ? '' : 's'}`
}
