/**
 * How a node and a runtime find each other and agree on a link epoch, and the
 * subjects they use. Every message here is signed with the shared secret; the
 * epoch's keys are derived from it and both sides' fresh nonces.
 *
 *   node    -> `P.hello`             hello  { name, cores, nonce: Nn }      (every helloMs while free)
 *   runtime -> `P.node.NAME.join`    join   { runtime: R, nonce: Nr, node: Nn, heartbeatMs, core }
 *   node    -> `P.rt.R.join`         joined { name, node: Nn, nonce: Nr, cores, maxFrame }
 *
 * then batches (wire.ts) runtime -> `P.node.NAME.<core|ctl>`, node -> `P.rt.R.NAME.<core|ctl>`.
 *
 * A node takes a join only if it carries the nonce of its current hello, so a
 * captured join is worthless once the node hellos again; a runtime takes a joined
 * only for a join it has pending. A replayed hello can make a runtime send a join
 * the node ignores (a delay, never a link). Signed message:
 *
 *     [0..16)  HMAC-SHA256(secret, "multikernel/1 " ++ json), first 16 bytes
 *     [16..)   json
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** The secret a runtime and its nodes share, as key bytes. */
export type Secret = Buffer

/** Shortest secret accepted: 16 bytes of a random string is 128 bits at best. */
export const MIN_SECRET_BYTES = 16

/** A secret from a string (an option, a flag, MULTIKERNEL_SECRET) or a key file's contents. */
export function secretFrom(value: unknown, what: string): Secret {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`)
  const s = Buffer.from(value.trim(), 'utf8')
  if (s.length < MIN_SECRET_BYTES) {
    throw new RangeError(
      `${what} must be at least ${MIN_SECRET_BYTES} bytes (a long random string)`,
    )
  }
  return s
}

/** The secret in a key file (its text, trimmed). */
export function secretFile(path: string): Secret {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new TypeError(`cannot read the secret file ${path}`, { cause: err })
  }
  return secretFrom(text, `the secret file ${path}`)
}

/** A fresh nonce (hex, a subject-safe token). */
export function nonce(): string {
  return randomBytes(12).toString('hex')
}

/** Node names and runtime ids become subject tokens: letters, digits, '_' and '-'. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** The subjects of one link, under `prefix`. */
export const subjects = {
  hello: (prefix: string) => `${prefix}.hello`,
  join: (prefix: string, node: string) => `${prefix}.node.${node}.join`,
  /** Everything a node listens to. */
  nodeAll: (prefix: string, node: string) => `${prefix}.node.${node}.>`,
  /** Runtime -> node, per core ('ctl' for the node itself). */
  toNode: (prefix: string, node: string, core: number | 'ctl') => `${prefix}.node.${node}.${core}`,
  joined: (prefix: string, runtime: string) => `${prefix}.rt.${runtime}.join`,
  /** Everything a runtime listens to (joined, and every node's batches). */
  runtimeAll: (prefix: string, runtime: string) => `${prefix}.rt.${runtime}.>`,
  /** Node -> runtime, per core ('ctl' for the node itself). */
  toRuntime: (prefix: string, runtime: string, node: string, core: number | 'ctl') =>
    `${prefix}.rt.${runtime}.${node}.${core}`,
}

export interface Hello {
  t: 'hello'
  name: string
  cores: number
  nonce: string
}

export interface Join {
  t: 'join'
  runtime: string
  nonce: string
  node: string
  heartbeatMs: number
  /**
   * The runtime's number of the node's first core: its spawnds are numbered from
   * it, so a domain's ctx.core is the number the runtime knows the core by.
   */
  core: number
}

export interface Joined {
  t: 'joined'
  name: string
  node: string
  nonce: string
  cores: number
  /** Largest frame payload the node's request rings take. */
  maxFrame: number
}

export type Handshake = Hello | Join | Joined

const SIGN_PREFIX = 'multikernel/1 '

function sign(secret: Secret, json: Buffer): Buffer {
  return createHmac('sha256', secret).update(SIGN_PREFIX).update(json).digest().subarray(0, 16)
}

/** A handshake message, signed. */
export function seal(secret: Secret, msg: Handshake): Uint8Array {
  const json = Buffer.from(JSON.stringify(msg), 'utf8')
  return Buffer.concat([sign(secret, json), json])
}

/** A handshake message that verifies and has the expected shape; null otherwise. */
export function unseal(secret: Secret, data: Uint8Array): Handshake | null {
  if (data.length < 17 || data.length > 4096) return null
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const json = bytes.subarray(16)
  if (!timingSafeEqual(sign(secret, json), bytes.subarray(0, 16))) return null
  let m: unknown
  try {
    m = JSON.parse(json.toString('utf8'))
  } catch {
    return null
  }
  return wellShaped(m) ? m : null
}

function str(v: unknown): v is string {
  return typeof v === 'string' && NAME_PATTERN.test(v)
}

function count(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 1 << 20
}

function wellShaped(m: unknown): m is Handshake {
  if (typeof m !== 'object' || m === null) return false
  const o = m as Record<string, unknown>
  switch (o.t) {
    case 'hello':
      return str(o.name) && count(o.cores) && str(o.nonce)
    case 'join':
      return (
        str(o.runtime) &&
        str(o.nonce) &&
        str(o.node) &&
        count(o.heartbeatMs) &&
        (o.core === 0 || count(o.core))
      )
    case 'joined':
      return str(o.name) && str(o.node) && str(o.nonce) && count(o.cores) && count(o.maxFrame)
    default:
      return false
  }
}

/** The two keys of a link epoch: one per direction, so a batch cannot be reflected back. */
export function epochKeys(
  secret: Secret,
  nodeNonce: string,
  runtimeNonce: string,
): { toNode: Buffer; toRuntime: Buffer } {
  const key = (dir: string): Buffer =>
    createHmac('sha256', secret)
      .update(`${SIGN_PREFIX}${dir} ${nodeNonce} ${runtimeNonce}`)
      .digest()
  return { toNode: key('to-node'), toRuntime: key('to-runtime') }
}
