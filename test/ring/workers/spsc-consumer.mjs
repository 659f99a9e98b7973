// SPSC stress, consumer side: checks every frame's sequence number (nothing lost,
// duplicated or reordered), length (regenerated from the producer's seed) and
// checksum (nothing corrupted). Releases in random batches, so polled frames stay
// unreleased for a while and the producer must not overwrite them.
import { workerData } from 'node:worker_threads'
import { Doorbell, SpscRing } from 'multikernel/ring'
import { Lengths, Rng, checksum, run, waitReady } from './common.mjs'

run(() => {
  const { ringSab, dataSab, roomSab, frames, seed, spin, waitMs } = workerData
  const ring = new SpscRing(ringSab)
  const data = new Doorbell(dataSab)
  const room = new Doorbell(roomSab)
  const lengths = new Lengths(seed, ring.maxPayload, 8)
  const batches = new Rng(seed ^ 0x1b873593)
  const { bytes, i32 } = ring
  const readable = () => !ring.isEmpty()
  let untilRelease = 1 + (batches.next() & 31)
  let maxFrames = 0
  for (let expected = 0; expected < frames;) {
    const at = ring.poll()
    if (at < 0) {
      // Hand back everything polled (and any wrap marker skipped) before sleeping.
      ring.release()
      room.ring()
      waitReady(data, readable, spin, waitMs, `consumer, frame ${expected}`)
      continue
    }
    const seq = i32[at >> 2] >>> 0
    if (seq !== expected) throw new Error(`frame ${expected}: got sequence number ${seq}`)
    const len = ring.frameLength
    const want = lengths.next()
    if (len !== want) throw new Error(`frame ${seq}: length ${len}, expected ${want}`)
    if (len === ring.maxPayload) maxFrames++
    if (checksum(bytes, at + 8, at + len) !== i32[(at >> 2) + 1]) {
      throw new Error(`frame ${seq} (${len} bytes): checksum mismatch, bytes corrupted`)
    }
    expected++
    if (--untilRelease === 0) {
      ring.release()
      room.ring()
      untilRelease = 1 + (batches.next() & 31)
    }
  }
  ring.release()
  room.ring()
  return { received: frames, maxFrames, sleeps: data.sleeps }
})
