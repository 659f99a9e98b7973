/**
 * How busy the machine is with work that is not ours. On a shared machine a
 * cross-thread figure means little if another process held a CPU meanwhile, so the
 * harness waits (bounded) for a quiet moment before each round and records the load
 * of other processes during it.
 *
 * Linux only (/proc/stat); elsewhere every reading is NaN and nothing waits.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

export interface CpuSnapshot {
  /** Jiffies (1/100 s) all CPUs spent busy, idle and stolen by the hypervisor. */
  busy: number
  idle: number
  steal: number
  /** CPU time of this process (all its threads), in jiffies. */
  ours: number
}

export function cpuSnapshot(): CpuSnapshot | null {
  let line: string
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
  } catch {
    return null
  }
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  if (f.length < 8 || f.some((v) => !Number.isFinite(v))) return null
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f
  const u = process.cpuUsage()
  return {
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    steal,
    ours: (u.user + u.system) / 10_000,
  }
}

/**
 * CPUs' worth of time that other processes (and the hypervisor, as steal) took
 * between two snapshots: 0 on an idle machine, up to the number of CPUs.
 */
export function othersLoad(a: CpuSnapshot | null, b: CpuSnapshot | null): number {
  if (!a || !b) return NaN
  const total = b.busy - a.busy + (b.idle - a.idle) + (b.steal - a.steal)
  if (total <= 0) return NaN
  const others = Math.max(0, b.busy - a.busy - (b.ours - a.ours)) + (b.steal - a.steal)
  return (others / total) * availableParallelism()
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Wait until other processes used less than `threshold` CPUs over a `sampleMs`
 * window, at most `maxWaitMs`. Returns the last reading (NaN where unknown).
 */
export async function waitQuiet(
  threshold: number,
  maxWaitMs: number,
  sampleMs = 250,
): Promise<number> {
  const start = Date.now()
  for (;;) {
    const a = cpuSnapshot()
    if (!a) return NaN
    await sleep(sampleMs)
    const load = othersLoad(a, cpuSnapshot())
    if (!(load >= threshold) || Date.now() - start >= maxWaitMs) return load
  }
}

/** What a quiet gate did over a suite (in the report's JSON as `quiet`). */
export interface QuietRecord {
  /** Other processes' CPUs below which a round starts at once. */
  threshold: number
  /** Longest wait before one round, and the suite's whole budget of waiting, seconds. */
  maxWaitSeconds: number
  budgetSeconds: number
  /** Seconds spent waiting in all, rounds gated, and rounds run without waiting (budget spent). */
  waitedSeconds: number
  gated: number
  ungated: number
  /** Rounds that started while others still used >= threshold CPUs (waited out). */
  startedBusy: number
}

/**
 * A bounded quiet gate for a whole suite: before a measured round it waits until
 * other processes leave the CPUs, but at most `maxWaitMs` per round and `budgetMs`
 * over the suite; once the budget is spent rounds run at once. Either way the load
 * is recorded (othersCpuMax per figure, the load average per figure), so a run on a
 * busy machine finishes and says it was busy.
 */
export class QuietGate {
  private waitedMs = 0
  private gated = 0
  private ungated = 0
  private startedBusy = 0

  constructor(
    private readonly threshold: number,
    private readonly maxWaitMs: number,
    private readonly budgetMs: number,
  ) {}

  async wait(): Promise<void> {
    const left = this.budgetMs - this.waitedMs
    if (left <= 0) {
      this.ungated++
      return
    }
    const t0 = Date.now()
    const load = await waitQuiet(this.threshold, Math.min(this.maxWaitMs, left))
    this.waitedMs += Date.now() - t0
    this.gated++
    if (load >= this.threshold) this.startedBusy++
  }

  record(): QuietRecord {
    return {
      threshold: this.threshold,
      maxWaitSeconds: this.maxWaitMs / 1000,
      budgetSeconds: this.budgetMs / 1000,
      waitedSeconds: Math.round(this.waitedMs / 100) / 10,
      gated: this.gated,
      ungated: this.ungated,
      startedBusy: this.startedBusy,
    }
  }
}
