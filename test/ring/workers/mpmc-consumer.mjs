// MPMC stress, the consumer: every frame seen exactly once, each producer's frames
// in that producer's order, lengths as the producer's seed says, checksums intact.
import { workerData } from 'node:worker_threads'
import { Doorbell, MpmcRing } from 'multikernel/ring'
import { Rng, checksum, run, waitReady } from './common.mjs'

run(() => {
  const { ringSab, dataSab, roomSab, producers, frames, seed, spin, waitMs } = workerData
  const ring = new MpmcRing(ringSab)
  const data = new Doorbell(dataSab)
  const room = new Doorbell(roomSab)
  const span = ring.maxPayload - 12 + 1
  const lengths = []
  const next = []
  for (let id = 0; id < producers; id++) {
    lengths.push(new Rng(seed + id))
    next.push(0)
  }
  const { bytes, i32 } = ring
  let at = -1
  const poll = () => (at = ring.poll()) >= 0
  const total = producers * frames
  for (let n = 0; n < total; n++) {
    if (!poll()) waitReady(data, poll, spin, waitMs, `consumer, after ${n} frames`)
    const w = at >> 2
    const id = i32[w]
    const seq = i32[w + 1]
    if (!(id >= 0 && id < producers)) throw new Error(`frame ${n}: bad producer id ${id}`)
    if (seq !== next[id]) throw new Error(`producer ${id}: got frame ${seq}, expected ${next[id]}`)
    const len = ring.frameLength
    const want = 12 + (lengths[id].next() % span)
    if (len !== want)
      throw new Error(`producer ${id} frame ${seq}: length ${len}, expected ${want}`)
    if (checksum(bytes, at + 12, at + len) !== i32[w + 2]) {
      throw new Error(`producer ${id} frame ${seq}: checksum mismatch, bytes corrupted`)
    }
    next[id]++
    ring.release()
    room.ring()
  }
  return { received: total, perProducer: next, casRetries: ring.casRetries, sleeps: data.sleeps }
})
