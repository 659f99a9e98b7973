// SPSC stress, producer side: `frames` frames of pseudo-random lengths, each
// [seq: u32][checksum: i32][bytes...], published in random batches. When the ring is
// full it publishes what it has (the consumer may be waiting for exactly that), then
// sleeps on the room doorbell until the frame (or its wrap marker) fits.
import { workerData } from 'node:worker_threads'
import { Doorbell, SpscRing } from 'multikernel/ring'
import { Lengths, Rng, fillBytes, run, waitReady } from './common.mjs'

run(() => {
  const { ringSab, dataSab, roomSab, frames, seed, spin, waitMs } = workerData
  const ring = new SpscRing(ringSab)
  const data = new Doorbell(dataSab)
  const room = new Doorbell(roomSab)
  const lengths = new Lengths(seed, ring.maxPayload, 8)
  const batches = new Rng(seed ^ 0x5bd1e995)
  const { bytes, i32 } = ring
  let untilPublish = 1 + (batches.next() & 31)
  let blocked = 0
  let len = lengths.next()
  const fits = () => ring.canReserve(len)
  for (let seq = 0; seq < frames;) {
    const at = ring.reserve(len)
    if (at < 0) {
      ring.publish()
      data.ring()
      blocked++
      waitReady(room, fits, spin, waitMs, `producer, frame ${seq}`)
      continue
    }
    // Payload offsets are 8-aligned, so the two header words index i32 directly.
    i32[at >> 2] = seq
    i32[(at >> 2) + 1] = fillBytes(bytes, at + 8, at + len, seq)
    seq++
    len = lengths.next()
    if (--untilPublish === 0) {
      ring.publish()
      data.ring()
      untilPublish = 1 + (batches.next() & 31)
    }
  }
  ring.publish()
  data.ring()
  return { blocked, sleeps: room.sleeps }
})
