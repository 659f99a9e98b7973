/**
 * Shared helpers of the process manager suite: fixture URLs, bounded waits (a lost
 * wake-up must fail a test, never hang it), error checks, a seeded PRNG, evidence
 * directories and a remote control for fixtures/remote.mjs.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BroadcastChannel } from 'node:worker_threads'
import { expect } from 'vitest'
import {
  KernelError,
  type DomainCap,
  type DomainStatus,
  type KernelErrorCode,
  type Runtime,
} from 'multikernel'
import { within } from '../shared/bounded.js'
export { within, HANG_MS } from '../shared/bounded.js'

export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url)
}

/** Expect `p` to reject with a KernelError of `code` (checked on err.code); returns it. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: KernelErrorCode,
): Promise<KernelError> {
  const outcome = await within(
    p.then(
      (value: unknown) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
    `a call expected to fail with ${code}`,
  )
  if (outcome.ok) {
    throw new Error(`expected ${code}, but it resolved with ${String(outcome.value)}`)
  }
  expect(outcome.err).toBeInstanceOf(KernelError)
  expect((outcome.err as KernelError).code).toBe(code)
  return outcome.err as KernelError
}

/** Expect `fn()` to throw a KernelError of `code` synchronously; returns it. */
export function throwsWith(fn: () => unknown, code: KernelErrorCode): KernelError {
  let caught: unknown = undefined
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(KernelError)
  expect((caught as KernelError).code).toBe(code)
  return caught as KernelError
}

/** The messages along an error's cause chain, outermost first. */
export function causeMessages(err: unknown): string[] {
  const out: string[] = []
  for (let e: unknown = err; e instanceof Error && out.length < 32; e = e.cause) {
    out.push(e.message)
  }
  return out
}

/** mulberry32: a small seeded PRNG, so a failing random run can be replayed. */
export function prng(seed: number): { next(): number; int(n: number): number } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n: number) => Math.floor(next() * n) }
}

/**
 * Cleanup barrier. A stopped domain's CLEANUP requests are sent before kill() and
 * wait() answer, so a ps request sent afterwards to the same core is handled after
 * them (one ring, in order) and answered after them: once every core answered,
 * every domain already STOPPED is CLEANED.
 */
export async function cleanupBarrier(rt: Runtime): Promise<void> {
  for (let core = 0; core < rt.cores; core++) await within(rt.ps(core), `ps(${core})`)
}

/** Stop-and-clean invariant of a domain that is gone. */
export function expectCleaned(st: DomainStatus): void {
  expect(st.state).toBe('CLEANED')
  expect(st.cores).toEqual([])
  expect(st.resourceCores).toEqual([])
  expect(st.numSpawndsRunning).toBe(0)
  expect(st.numSpawndsResources).toBe(0)
}

/**
 * Every request answered exactly once, nothing queued: the queues are at rest. The
 * barrier first lets CLEANUPs sent for domains that just stopped be answered.
 */
export async function expectQueuesAtRest(rt: Runtime): Promise<void> {
  await cleanupBarrier(rt)
  for (const s of rt.stats()) {
    expect(s.sendQueue, `core ${s.core} send queue`).toBe(0)
    expect(s.receiveQueue, `core ${s.core} receive queue`).toBe(0)
    expect(s.replies, `core ${s.core} replies`).toBe(s.requests)
    expect(s.strayReplies, `core ${s.core} stray replies`).toBe(0)
  }
}

/** The runtime still serves everyone: a normal domain on every core runs and exits. */
export async function expectHealthy(rt: Runtime): Promise<void> {
  for (let core = 0; core < rt.cores; core++) {
    await within(rt.ping(core), `ping(${core})`)
    const d = await within(
      rt.spawn(fixture('behave.mjs'), { core, argv: ['return', String(10 + core)] }),
      'spawn of a healthy domain',
    )
    const r = await within(rt.wait(d), 'wait of a healthy domain')
    expect(r).toMatchObject({ exitCode: 10 + core, reason: 'exited' })
  }
}

/** A fresh directory for the evidence fixtures/sleeper.mjs leaves. */
export class EvidenceDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'mk-pm-'))

  /** The lines of `<kind>-<domain>-<core>`, or [] when it does not exist. */
  lines(kind: 'started' | 'aborted', d: DomainCap, core: number): string[] {
    const file = join(this.dir, `${kind}-${d.id}-${core}`)
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export interface RemoteEvent {
  event: 'started' | 'aborted'
  domainId: number
  core: number
  argv?: string[]
  env?: Record<string, string>
  exitCode?: number
}

export interface RemoteCommand {
  cmd: 'return' | 'exit' | 'throw'
  core?: number
  code?: number
  message?: string
}

/** The test's end of fixtures/remote.mjs: hear its events, tell it how to end. */
export class Remote {
  readonly name = `mk-pm-${randomUUID()}`
  readonly events: RemoteEvent[] = []
  private readonly bc = new BroadcastChannel(this.name)
  private waiters: { match: (e: RemoteEvent) => boolean; resolve: (e: RemoteEvent) => void }[] = []

  constructor() {
    this.bc.onmessage = (ev: MessageEvent) => {
      const data = ev.data as RemoteEvent | RemoteCommand
      if (!('event' in data)) return // our own commands are not echoed, but be safe
      this.events.push(data)
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(data)) return true
        w.resolve(data)
        return false
      })
    }
  }

  /** The env a remote domain needs to find this channel. */
  get env(): Record<string, string> {
    return { CHANNEL: this.name }
  }

  /** The first event (past or future) of `kind` from `d` on `core`; bounded. */
  event(kind: RemoteEvent['event'], d: DomainCap, core: number): Promise<RemoteEvent> {
    const match = (e: RemoteEvent) => e.event === kind && e.domainId === d.id && e.core === core
    const seen = this.events.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return within(
      new Promise<RemoteEvent>((resolve) => this.waiters.push({ match, resolve })),
      `remote event ${kind} of domain ${d.id} on core ${core}`,
    )
  }

  count(kind: RemoteEvent['event'], d: DomainCap): number {
    return this.events.filter((e) => e.event === kind && e.domainId === d.id).length
  }

  tell(d: DomainCap, c: RemoteCommand): void {
    this.bc.postMessage({ ...c, domainId: d.id })
  }

  close(): void {
    this.bc.close()
  }
}
