// Doorbell ping-pong between two workers over two SPSC rings (layout made by the
// test: ping ring at 0, pong ring at 256, ping bell at 512, pong bell at 576).
// The ponger sleeps on the ping bell (spin 0, so it goes to sleep as soon as it finds
// nothing); the pinger, in `gated` mode, pings only once the ponger has announced
// sleep, so the ponger must be woken by the pinger every single round. Ungated, the
// pinger pings after a random short delay, so pings land before, inside and after the
// ponger's announce-then-recheck window: the race the doorbell protocol exists for.
// Sleep counts are not exact either way: a notify can arrive after its sleeper already
// left (it saw the seq change) and wake the next sleep early, and in gated mode the
// ponger may still see the ping on its re-check after announcing.
import { workerData } from 'node:worker_threads'
import { Doorbell, SpscRing } from 'multikernel/ring'
import { Rng, pause, run, spinUntil, waitReady } from './common.mjs'

run(() => {
  const { sab, role, rounds, gated, spin, waitMs, seed } = workerData
  const ping = new SpscRing(sab, 0)
  const pong = new SpscRing(sab, 256)
  const pingBell = new Doorbell(sab, 512)
  const pongBell = new Doorbell(sab, 576)
  const frame = new Uint8Array(4)
  const word = new DataView(frame.buffer)
  if (role === 'ponger') {
    const pinged = () => !ping.isEmpty()
    for (let i = 0; i < rounds; i++) {
      waitReady(pingBell, pinged, spin, waitMs, `ponger, round ${i}`)
      const got = ping.tryPop()
      if (got === null || new DataView(got.buffer).getUint32(0, true) !== i) {
        throw new Error(`ponger, round ${i}: bad ping ${got === null ? 'none' : got.join(',')}`)
      }
      if (!pong.tryPush(got)) throw new Error(`ponger, round ${i}: pong ring full`)
      pongBell.ring()
    }
    return { sleeps: pingBell.sleeps, notifies: pongBell.notifies }
  }
  const rng = new Rng(seed)
  const ponged = () => !pong.isEmpty()
  let sink = 0
  for (let i = 0; i < rounds; i++) {
    if (gated) {
      spinUntil(() => pingBell.hasSleepers(), waitMs, `pinger, round ${i}: ponger never slept`)
      // The ponger announced; give it the moment it needs to get into Atomics.wait.
      pause(0.05)
    } else {
      for (let d = rng.next() & 1023; d > 0; d--) sink ^= d
    }
    word.setUint32(0, i, true)
    if (!ping.tryPush(frame)) throw new Error(`pinger, round ${i}: ping ring full`)
    pingBell.ring()
    waitReady(pongBell, ponged, spin, waitMs, `pinger, round ${i}`)
    const got = pong.tryPop()
    if (got === null || new DataView(got.buffer).getUint32(0, true) !== i) {
      throw new Error(`pinger, round ${i}: bad pong`)
    }
  }
  return { notifies: pingBell.notifies, sleeps: pongBell.sleeps, sink }
})
