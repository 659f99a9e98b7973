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
