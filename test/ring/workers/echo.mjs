// Channel side B: echo every frame back with each byte XORed with 0xa5 (so the test
// knows the bytes went through this thread), until side A closes the channel.
// Batch drain: every frame polled in one pass is released once at the end of it.
import { workerData } from 'node:worker_threads'
import { Channel } from 'multikernel/ring'
import { run } from './common.mjs'

run(() => {
  const { sab, spin, waitMs } = workerData
  const ch = Channel.attach(sab, { spin })
  const rx = ch.rx.bytes
  const tx = ch.tx.bytes
  let echoed = 0
  for (;;) {
    const t0 = Date.now()
    const readable = ch.waitReadable(waitMs)
    // The peer never leaves this side idle that long: a wait that lasted until its
    // timeout is a stall or a lost wake-up, even if data was there by then.
    if (Date.now() - t0 >= waitMs) {
      throw new Error(`echo: waited the whole ${waitMs} ms (after ${echoed} frames): lost wake-up?`)
    }
    if (!readable) {
      if (ch.closed) break
      throw new Error(`echo: waitReadable returned false on an open channel`)
    }
    // waitReadable may say readable for a lone wrap marker: then poll() is -1 at once.
    for (let at = ch.poll(); at >= 0; at = ch.poll()) {
      const len = ch.rx.frameLength
      let out = ch.reserve(len)
      while (out < 0) {
        // waitWritable flushes first, so the peer sees what we echoed so far.
        if (!ch.waitWritable(len, waitMs)) throw new Error(`echo: no room for ${len} bytes`)
        out = ch.reserve(len)
      }
      for (let k = 0; k < len; k++) tx[out + k] = rx[at + k] ^ 0xa5
      echoed++
    }
    ch.release()
    ch.flush()
  }
  return { echoed, sleeps: ch.rxBell.sleeps, notifies: ch.txBell.notifies }
})
