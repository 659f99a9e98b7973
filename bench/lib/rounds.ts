/**
 * Round protocol between the main thread and benchmark workers (both sides).
 *
 * The main thread starts every worker of one measurement with its task in
 * `workerData` and a shared control buffer (`ctl`). For each round r = 1..rounds:
 *   1. every worker prepares, posts { type: 'ready', round: r } and blocks until
 *      ctl[GO] >= r (bounded Atomics.wait slices, so it never waits unboundedly);
 *   2. once all are ready, the main thread stores GO = r and notifies: all start together;
 *   3. every worker runs its part of the round and posts { type: 'result', round, data }.
 * Round 1 is a warm-up (JIT, page faults) and is discarded by callers.
 * Afterwards the main thread terminates every worker (also on error or timeout), so
 * the process can exit.
 */
import { Worker, parentPort, type TransferListItem } from 'node:worker_threads'
import { cpuSnapshot, othersLoad, type QuietGate } from './cpu.js'

/** Int32 index of the GO word in the control buffer. */
export const CTL_GO = 0
export const CTL_BYTES = 64

export type RoundData = Record<string, number>

export type WorkerMessage =
  | { type: 'ready'; round: number }
  | { type: 'result'; round: number; data: RoundData }
  | { type: 'error'; message: string }

/** A fresh control buffer for one measurement. */
export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_BYTES)
}

// ------------------------------------------------------------------ main side

class Mailbox {
  private readonly queue: WorkerMessage[] = []
  private waiter: ((m: WorkerMessage) => void) | null = null
  private failure: Error | null = null
  private failWaiter: ((e: Error) => void) | null = null

  push(m: WorkerMessage): void {
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      this.failWaiter = null
      w(m)
    } else this.queue.push(m)
  }

  fail(e: Error): void {
    if (this.failure) return
    this.failure = e
    if (this.failWaiter) {
      const f = this.failWaiter
      this.waiter = null
      this.failWaiter = null
      f(e)
    }
  }

  next(): Promise<WorkerMessage> {
    const m = this.queue.shift()
    if (m) return Promise.resolve(m)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.failWaiter = reject
    })
  }
}

export interface SessionOptions {
  /** URL of the compiled worker entry point. */
  worker: URL
  /** One workerData object per worker; each gets `ctl` and `rounds` added. */
  tasks: object[]
  /** Transfer lists, parallel to `tasks` (MessagePorts). */
  transfers?: (readonly TransferListItem[])[]
  /** Rounds the workers will serve (warm-up included). */
  rounds: number
  /** Upper bound on one round, ms. */
  roundTimeoutMs: number
}

export interface RoundResult {
  /** One entry per worker, in task order. */
  data: RoundData[]
  /** CPUs' worth of time other processes took during the round (NaN when unknown). */
  othersCpu: number
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`benchmark timed out: ${what}`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

async function expect(box: Mailbox, type: 'ready' | 'result', round: number): Promise<RoundData> {
  const m = await box.next()
  if (m.type === 'error') throw new Error(`benchmark worker failed: ${m.message}`)
  if (m.type !== type || m.round !== round) {
    throw new Error(
      `benchmark worker protocol: expected ${type} ${round}, got ${JSON.stringify(m)}`,
    )
  }
  return m.type === 'result' ? m.data : {}
}

/**
 * One measurement's workers, alive across its rounds. Between rounds they block in
 * waitGo (no CPU), so several sessions may be open at once and their rounds
 * interleaved: peers then run under the same conditions of a noisy machine.
 */
export class RoundSession {
  private readonly ctl = new Int32Array(createControl())
  private readonly workers: Worker[] = []
  private readonly boxes: Mailbox[] = []
  private next = 1

  constructor(private readonly opts: SessionOptions) {
    const ctl = this.ctl.buffer
    opts.tasks.forEach((task, i) => {
      const box = new Mailbox()
      const w = new Worker(opts.worker, {
        workerData: { ...task, ctl, rounds: opts.rounds },
        transferList: opts.transfers?.[i] ? [...opts.transfers[i]] : [],
      })
      w.on('message', (m: WorkerMessage) => box.push(m))
      w.on('error', (e: Error) => box.fail(e))
      w.on('exit', (code) => box.fail(new Error(`benchmark worker exited early (code ${code})`)))
      this.workers.push(w)
      this.boxes.push(box)
    })
  }

  /** Run the next round (all workers start together) and collect its results. */
  async round(quiet?: QuietGate): Promise<RoundResult> {
    const r = this.next++
    if (r > this.opts.rounds) throw new Error(`session has only ${this.opts.rounds} rounds`)
    await withTimeout(
      Promise.all(this.boxes.map((b) => expect(b, 'ready', r))),
      this.opts.roundTimeoutMs,
      `workers not ready for round ${r}`,
    )
    if (quiet) await quiet.wait()
    const before = cpuSnapshot()
    Atomics.store(this.ctl, CTL_GO, r)
    Atomics.notify(this.ctl, CTL_GO)
    const data = await withTimeout(
      Promise.all(this.boxes.map((b) => expect(b, 'result', r))),
      this.opts.roundTimeoutMs,
      `round ${r}`,
    )
    return { data, othersCpu: othersLoad(before, cpuSnapshot()) }
  }

  /** Terminate every worker (also mid-round). */
  async close(): Promise<void> {
    for (const w of this.workers) w.removeAllListeners('exit')
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

// ---------------------------------------------------------------- worker side

export interface RoundTask {
  ctl: SharedArrayBuffer
  rounds: number
}

/** A worker's part of one round: returns its figures (may be async). */
export type RoundFn = (round: number) => RoundData | Promise<RoundData>

/** Block (in bounded slices) until the main thread releases round `round`. */
export function waitGo(ctl: Int32Array, round: number): void {
  for (;;) {
    const go = Atomics.load(ctl, CTL_GO)
    if (go >= round) return
    Atomics.wait(ctl, CTL_GO, go, 50)
  }
}

/** Worker side: run `fn` once per round, following the protocol above. */
export async function serveRounds(task: RoundTask, fn: RoundFn): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('serveRounds runs inside a worker')
  const ctl = new Int32Array(task.ctl)
  try {
    for (let r = 1; r <= task.rounds; r++) {
      port.postMessage({ type: 'ready', round: r } satisfies WorkerMessage)
      waitGo(ctl, r)
      const data = await fn(r)
      port.postMessage({ type: 'result', round: r, data } satisfies WorkerMessage)
    }
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
    port.postMessage({ type: 'error', message } satisfies WorkerMessage)
  }
}
