// Channel side B for the close tests. Modes:
//   wait-readable   sleep in waitReadable until side A closes; then try to send.
//   wait-writable   fill the B->A ring, sleep in waitWritable until A closes.
//   send-then-close send `count` frames, then close from this side.
//   close-on-sleep  wait until side A sleeps on its receive doorbell, then close.
// Each reports what the waits returned and the codes the refused sends threw.
import { workerData } from 'node:worker_threads'
import { Channel } from 'multikernel/ring'
import { run, spinUntil } from './common.mjs'

function codeOf(fn) {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err.code ?? String(err)
  }
}

run(() => {
  const { sab, mode, count, waitMs } = workerData
  const ch = Channel.attach(sab, { spin: 0 })
  const refusals = () => ({
    sendError: codeOf(() => ch.send(new Uint8Array([1]))),
    reserveError: codeOf(() => ch.reserve(1)),
  })
  switch (mode) {
    case 'wait-readable': {
      const readable = ch.waitReadable(waitMs)
      return { readable, closed: ch.closed, sleeps: ch.rxBell.sleeps, ...refusals() }
    }
    case 'wait-writable': {
      let sent = 0
      while (ch.send(Uint8Array.of(sent & 0xff, 0xbb))) sent++
      const writable = ch.waitWritable(2, waitMs)
      return { sent, writable, closed: ch.closed, sleeps: ch.txRoomBell.sleeps, ...refusals() }
    }
    case 'send-then-close': {
      for (let i = 0; i < count; i++) {
        if (!ch.send(Uint8Array.of(i, 0xcc, i))) throw new Error(`frame ${i} did not fit`)
      }
      ch.close()
      return { closed: ch.closed, ...refusals() }
    }
    case 'close-on-sleep': {
      // Side A's receive doorbell is the one this side rings after sending (txBell).
      spinUntil(() => ch.txBell.hasSleepers(), waitMs, 'side A never slept')
      ch.close()
      return { closed: ch.closed }
    }
    default:
      throw new Error(`unknown mode ${mode}`)
  }
})
