// MPMC stress, one of several producers: frames [id: u32][seq: u32][checksum: i32]
// [bytes...] of pseudo-random lengths. A full ring sleeps on the room doorbell; the
// readiness check is the claim itself, so waking up and claiming are one step.
import { workerData } from 'node:worker_threads'
import { Doorbell, MpmcRing } from 'multikernel/ring'
import { Rng, fillBytes, run, waitReady } from './common.mjs'

run(() => {
  const { ringSab, dataSab, roomSab, id, frames, seed, spin, waitMs } = workerData
  const ring = new MpmcRing(ringSab)
  const data = new Doorbell(dataSab)
  const room = new Doorbell(roomSab)
  const lengths = new Rng(seed + id)
  const span = ring.maxPayload - 12 + 1
  const { bytes, i32 } = ring
  let len = 0
  let at = -1
  const claim = () => (at = ring.claim(len)) >= 0
  for (let seq = 0; seq < frames; seq++) {
    len = 12 + (lengths.next() % span)
    if (!claim()) waitReady(room, claim, spin, waitMs, `producer ${id}, frame ${seq}`)
    const w = at >> 2
    i32[w] = id
    i32[w + 1] = seq
    i32[w + 2] = fillBytes(bytes, at + 12, at + len, (id << 24) ^ seq)
    ring.commit()
    data.ring()
  }
  return { casRetries: ring.casRetries, fullSpins: ring.fullSpins, sleeps: room.sleeps }
})
