/**
 * The knobs of `multikernel stress`, from commander's strings to checked values.
 * Every bad value is a UsageError (exit 2) that names the option and says why.
 */
import {
  MAX_FRAME,
  MIN_FRAME,
  slotBytesFor,
  STRESS_DEFAULTS,
  STRESS_LIMITS,
  type StressConfig,
  type WaitStrategy,
} from '../../stress/index.js'
import type { Fault } from '../../stress/protocol.js'
import {
  nonNegativeIntArg,
  positiveIntArg,
  powerOfTwoArg,
  secondsArg,
  UsageError,
} from '../output.js'

/** Options as commander hands them over: strings, unset when not given. */
export interface StressCliOptions {
  producers?: string
  consumers?: string
  capacity?: string
  frameSize?: string
  wait?: WaitStrategy
  spin?: string
  frames?: string
  duration?: string
  sweep?: boolean
  sweepProducers?: string
  sweepCapacity?: string
  out?: string
  json?: boolean
  color?: boolean
  fault?: Fault
}

export const DEFAULTS = {
  ...STRESS_DEFAULTS,
  sweepProducers: '1,2,4,8',
  sweepCapacity: '4,16,64,256',
  report: 'stress-report.html',
}

export const MAX_THREADS = STRESS_LIMITS.threads
const MAX_CAPACITY = STRESS_LIMITS.capacity
const MAX_RING_BYTES = STRESS_LIMITS.ringBytes
const MAX_FRAMES = STRESS_LIMITS.frames
const MAX_DURATION_S = STRESS_LIMITS.durationMs / 1000

export interface StressPlan {
  /** One config per run: one for a single run, producers x capacities for a sweep. */
  runs: StressConfig[]
  sweep: boolean
  /** Where to write the HTML report, or null for none. */
  out: string | null
}

export function planStress(o: StressCliOptions): StressPlan {
  const consumers = threadsArg('--consumers', o.consumers, DEFAULTS.consumers)
  const frameSize = positiveIntArg('--frame-size', o.frameSize, DEFAULTS.frameSize)
  if (frameSize < MIN_FRAME || frameSize > MAX_FRAME) {
    throw new UsageError(
      `--frame-size must be between ${MIN_FRAME} (the frame header) and ${MAX_FRAME} bytes, got ${frameSize}`,
    )
  }
  const wait = o.wait ?? DEFAULTS.wait
  // 0 is no spinning: spin-then-sleep then sleeps at once.
  const spin = nonNegativeIntArg('--spin', o.spin, DEFAULTS.spin)
  if (o.frames !== undefined && o.duration !== undefined) {
    throw new UsageError('give either --frames or --duration, not both')
  }
  let frames: number | null = null
  let durationMs: number | null = null
  if (o.duration !== undefined) {
    durationMs = Math.round(secondsArg('--duration', o.duration, MAX_DURATION_S) * 1000)
  } else {
    frames = positiveIntArg('--frames', o.frames, DEFAULTS.frames)
    if (frames > MAX_FRAMES) throw new UsageError(`--frames must be at most ${MAX_FRAMES}`)
  }

  let producerList: number[]
  let capacityList: number[]
  const sweep = o.sweep === true
  if (sweep) {
    if (o.producers !== undefined || o.capacity !== undefined) {
      throw new UsageError(
        '--sweep takes its producers and capacities from --sweep-producers and --sweep-capacity',
      )
    }
    producerList = listArg('--sweep-producers', o.sweepProducers ?? DEFAULTS.sweepProducers, (s) =>
      threadsArg('--sweep-producers', s, 1),
    )
    capacityList = listArg('--sweep-capacity', o.sweepCapacity ?? DEFAULTS.sweepCapacity, (s) =>
      capacityArg('--sweep-capacity', s),
    )
  } else {
    if (o.sweepProducers !== undefined || o.sweepCapacity !== undefined) {
      throw new UsageError('--sweep-producers and --sweep-capacity need --sweep')
    }
    producerList = [threadsArg('--producers', o.producers, DEFAULTS.producers)]
    capacityList = [capacityArg('--capacity', o.capacity)]
  }

  const runs: StressConfig[] = []
  for (const capacity of capacityList) {
    const ringBytes = capacity * slotBytesFor(frameSize)
    if (ringBytes > MAX_RING_BYTES) {
      throw new UsageError(
        `a ring of ${capacity} slots of ${slotBytesFor(frameSize)} bytes is ${ringBytes} bytes; the limit is ${MAX_RING_BYTES}`,
      )
    }
  }
  for (const producers of producerList) {
    if (frames !== null && frames < producers) {
      throw new UsageError(
        `--frames (${frames}) must be at least the number of producers (${producers})`,
      )
    }
    for (const capacity of capacityList) {
      runs.push({
        producers,
        consumers,
        capacity,
        frameSize,
        wait,
        spin,
        frames,
        durationMs,
        fault: o.fault ?? null,
      })
    }
  }
  const out = o.out !== undefined ? o.out : sweep ? DEFAULTS.report : null
  if (out !== null && out.trim() === '') throw new UsageError('--out needs a file name')
  return { runs, sweep, out }
}

function threadsArg(name: string, value: string | undefined, dflt: number): number {
  const n = positiveIntArg(name, value, dflt)
  if (n > MAX_THREADS) throw new UsageError(`${name} must be at most ${MAX_THREADS}, got ${n}`)
  return n
}

function capacityArg(name: string, value: string | undefined): number {
  const n = powerOfTwoArg(name, value, DEFAULTS.capacity)
  if (n < 2 || n > MAX_CAPACITY) {
    throw new UsageError(`${name} must be a power of two from 2 to ${MAX_CAPACITY}, got ${n}`)
  }
  return n
}

/** A comma-separated list of values, each checked by `one`, sorted and without repeats. */
function listArg(name: string, value: string, one: (s: string) => number): number[] {
  const items = value.split(',').map((s) => s.trim())
  if (items.some((s) => s === ''))
    throw new UsageError(`${name} takes a comma-separated list, got '${value}'`)
  return [...new Set(items.map(one))].sort((a, b) => a - b)
}
