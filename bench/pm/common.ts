/**
 * What the pm suite's sections share: the recorder that stamps every figure with the
 * load it was measured under, the repetition (bounded quiet gate, others' load
 * recorded), and piscina in its two configurations with the headline against the
 * better.
 */
import type { Piscina } from 'piscina'
import { cpuSnapshot, othersLoad, type QuietGate } from '../lib/cpu.js'
import { stamp, type Figure } from '../lib/report.js'
import { piscinaPool, PISCINA_TASKS_PER_WORKER, type PiscinaConfig } from './rates.js'

/** Operations in flight for every per-call throughput, spawn and event-loop figure. */
export const IN_FLIGHT = 256

export const PISCINA: readonly PiscinaConfig[] = ['defaults', 'tuned']
export const piscinaText =
  `piscina-defaults = piscina with its defaults (1 task per worker, atomics 'sync', ` +
  `recordTiming on); piscina-tuned = atomics 'async', ${PISCINA_TASKS_PER_WORKER} tasks per ` +
  `worker, recordTiming off; headline = the better of the two`

/** The figures of a suite, each with the load it met. */
export class Recorder {
  readonly figures: Figure[] = []
  /** Most CPUs other processes took during one repetition of the current group. */
  private othersMax = 0

  constructor(private readonly quiet: QuietGate | undefined) {}

  /** A new group of figures: its repetitions' load is recorded afresh. */
  group(): void {
    this.othersMax = 0
  }

  add(...fs: Figure[]): void {
    for (const f of fs) {
      f.extra = { ...f.extra, othersCpuMax: this.othersMax }
      this.figures.push(stamp(f))
    }
  }

  /** One repetition: wait (bounded) for a quiet machine, measure, record others' load. */
  async repetition<T>(body: () => Promise<T>): Promise<T> {
    await this.quiet?.wait()
    const before = cpuSnapshot()
    const out = await body()
    const load = othersLoad(before, cpuSnapshot())
    if (load > this.othersMax) this.othersMax = load
    return out
  }
}

/** piscina pools of each configuration, destroyed afterwards. */
export async function withPools<T>(
  threads: number,
  body: (pools: Record<PiscinaConfig, Piscina>) => Promise<T>,
): Promise<T> {
  const pools = {
    defaults: piscinaPool(threads, 'defaults'),
    tuned: piscinaPool(threads, 'tuned'),
  }
  try {
    return await body(pools)
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.destroy()))
  }
}

/** Mark the better piscina configuration of this figure as its headline peer. */
export function best(f: Figure): Figure {
  const d = f.peers?.['piscina-defaults'] ?? NaN
  const t = f.peers?.['piscina-tuned'] ?? NaN
  const tunedBetter = f.better === 'higher' ? t >= d : t <= d
  f.headline = tunedBetter || Number.isNaN(d) ? 'piscina-tuned' : 'piscina-defaults'
  return f
}
