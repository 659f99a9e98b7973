// Test plumbing for the ring suites: workers that report one result, bounded waits
// on the main thread (which never blocks in Atomics.wait), and byte patterns.
import { Worker } from 'node:worker_threads'

/**
 * Longest a worker sleeps in one wait. Far beyond any scheduling delay, so reaching
 * it means a lost wake-up or a stalled peer, and the worker reports a failure.
 */
export const WAIT_MS = 10_000
/** Bound on a whole cross-thread test: it fails with a message, never hangs CI. */
export const TEST_MS = 40_000

interface Report {
  type: 'done' | 'fail'
  error?: string
}

const running = new Set<Worker>()

/** A worker script from test/ring/workers/ that posts one { type: 'done' | 'fail' }. */
export class TestWorker<R extends object = Record<string, unknown>> {
  readonly worker: Worker
  /** The worker's result: rejects on 'fail', an uncaught error, or exit before reporting. */
  readonly result: Promise<R>

  constructor(script: string, workerData: unknown) {
    this.worker = new Worker(new URL(`./workers/${script}`, import.meta.url), { workerData })
    running.add(this.worker)
    this.result = new Promise<R>((resolve, reject) => {
      this.worker.on('message', (m: Report) => {
        if (m.type === 'done') resolve(m as unknown as R)
        else reject(new Error(`${script}: ${m.error}`))
      })
      this.worker.on('error', reject)
      this.worker.on('exit', (code) => {
        running.delete(this.worker)
        reject(new Error(`${script} exited with code ${code} before reporting`))
      })
    })
    // A test that fails elsewhere may never await this; don't turn that into an
    // unhandled rejection on top of the real failure.
    this.result.catch(() => {})
  }
}

/** For afterEach: end every worker still running, and wait until each has. */
export async function terminateAll(): Promise<void> {
  await Promise.all([...running].map((w) => w.terminate()))
  running.clear()
}

/** `p`, or a failure naming `what` after `ms`: a lost wake-up fails, never hangs. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no result within ${ms} ms (lost wake-up or deadlock)`)),
      ms,
    )
  })
  try {
    return await Promise.race([p, expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `p`, but failing as soon as one of `workers` reports a failure: the main thread's
 * side of a test must not sit out its whole bound after the worker already said why.
 */
export function watching<T>(p: Promise<T>, ...workers: TestWorker<object>[]): Promise<T> {
  const failures = workers.map((w) => w.result.then(() => new Promise<never>(() => {})))
  return Promise.race([p, ...failures])
}

/** Main-thread wait for a condition another thread makes true: polls on timers. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** `len` bytes that differ from frame to frame (by `tag`) and from byte to byte. */
export function pattern(len: number, tag: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let k = 0; k < len; k++) out[k] = (tag * 131 + k * 7 + 1) & 0xff
  return out
}

/** Bytes equal, without expect() per byte (the exhaustive loops run 10^5 of these). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false
  return true
}

/** What `fn` threw (fails the test when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error(`expected a throw from ${fn.toString()}`)
}

/** A copy of `src` in a new SharedArrayBuffer of `size` bytes (truncated or zero-padded). */
export function copySab(src: SharedArrayBuffer, size: number): SharedArrayBuffer {
  const dst = new SharedArrayBuffer(size)
  new Uint8Array(dst).set(new Uint8Array(src, 0, Math.min(size, src.byteLength)))
  return dst
}
