// node examples/ring-two-threads.mjs — the ring layer on its own: a worker sends
// 1,000,000 frames over a Channel, zero-copy, published in batches; the main
// thread reads them without ever blocking its event loop.
import { Worker, isMainThread, workerData } from 'node:worker_threads'
import { Channel } from 'multikernel/ring'

const N = 1_000_000
if (isMainThread) {
  const ch = Channel.create({ capacity: 1 << 16 })
  const worker = new Worker(new URL(import.meta.url), { workerData: ch.buffer })
  let seen = 0
  let sum = 0
  while (seen < N) {
    // Drain a batch zero-copy, then release it with one atomic store.
    for (let at = ch.poll(); at >= 0; at = ch.poll()) {
      sum += ch.rx.i32[at >> 2]
      seen++
    }
    ch.release()
    if (seen < N) await ch.readableAsync(1000) // spin, then Atomics.waitAsync
  }
  console.log(`received ${seen} frames, checksum ${sum === (N * (N - 1)) / 2 ? 'ok' : 'BAD'}`)
  ch.close()
  await worker.terminate()
} else {
  const ch = Channel.attach(workerData)
  for (let i = 0; i < N;) {
    // Reserve frames in place and publish a batch of up to 64 at once.
    let batch = 0
    for (; batch < 64 && i < N; batch++, i++) {
      const at = ch.reserve(4)
      if (at < 0) break
      ch.tx.i32[at >> 2] = i
    }
    ch.flush() // one Atomics.store of the tail, a notify only if the reader sleeps
    if (batch < 64 && i < N) ch.waitWritable(4, 1000) // blocking wait: fine in a worker
  }
}
