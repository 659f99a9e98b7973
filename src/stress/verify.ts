/**
 * The verifier: merges what every consumer saw and checks that every frame every
 * producer issued arrived exactly once (no loss, no duplicate, within one consumer
 * or across two), intact (checksum, length, producer id), and in per-producer order
 * as each consumer saw it.
 */
import type { ConsumerReport, ProducerReport } from './protocol.js'

export interface Verification {
  ok: boolean
  /** Frames the producers issued (sequence numbers 0..sent-1 of each). */
  expected: number
  /** Distinct frames that arrived intact. */
  delivered: number
  missing: number
  duplicates: number
  corrupt: number
  outOfOrder: number
  /** The first few problems, in words. */
  problems: string[]
  /** Distinct intact frames, per producer. */
  perProducer: number[]
}

const MAX_PROBLEMS = 10

export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff
}

export function verify(producers: ProducerReport[], consumers: ConsumerReport[]): Verification {
  const problems: string[] = []
  const note = (s: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(s)
  }
  let duplicates = 0
  let corrupt = 0
  let outOfOrder = 0
  for (const c of consumers) {
    duplicates += c.duplicates
    corrupt += c.corrupt
    outOfOrder += c.outOfOrder
    for (const p of c.problems) note(p)
  }

  let expected = 0
  let delivered = 0
  let missing = 0
  const perProducer: number[] = []
  for (const p of [...producers].sort((a, b) => a.index - b.index)) {
    const n = p.sent
    expected += n
    const words = Math.ceil(n / 32)
    const merged = new Uint32Array(words)
    for (const c of consumers) {
      const bits = new Uint32Array(c.seen[p.index])
      for (let w = 0; w < bits.length; w++) {
        let v = bits[w]
        if (v === 0) continue
        // Sequence numbers the producer never issued: corruption that kept its checksum.
        const valid = w < words - 1 ? 0xffffffff : w === words - 1 ? lastWordMask(n) : 0
        const stray = v & ~valid
        if (stray !== 0) {
          corrupt += popcount32(stray)
          note(`producer ${p.index}: consumer ${c.index} saw sequence numbers beyond ${n - 1}`)
          v &= valid
        }
        const twice = merged[w] & v
        if (twice !== 0) {
          duplicates += popcount32(twice)
          note(`producer ${p.index}: frame ${w * 32 + lowestBit(twice)} arrived at two consumers`)
        }
        merged[w] |= v
      }
    }
    let got = 0
    for (let w = 0; w < words; w++) got += popcount32(merged[w])
    const lost = n - got
    if (lost > 0) {
      for (let w = 0, shown = 0; w < words && shown < 3; w++) {
        const gap = ~merged[w] & (w === words - 1 ? lastWordMask(n) : 0xffffffff)
        if (gap !== 0) {
          note(`producer ${p.index}: frame ${w * 32 + lowestBit(gap)} never arrived`)
          shown++
        }
      }
    }
    delivered += got
    missing += lost
    perProducer.push(got)
  }
  const ok = missing === 0 && duplicates === 0 && corrupt === 0 && outOfOrder === 0
  return {
    ok,
    expected,
    delivered,
    missing,
    duplicates,
    corrupt,
    outOfOrder,
    problems,
    perProducer,
  }
}

function lastWordMask(n: number): number {
  const r = n & 31
  return r === 0 ? 0xffffffff : 0xffffffff >>> (32 - r)
}

function lowestBit(v: number): number {
  return 31 - Math.clz32(v & -v)
}
