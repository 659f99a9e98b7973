/* global AbortController */
// examples/pool.mjs: piscina's API on multikernel. Switching is one line:
//   import Piscina from 'piscina'   ->   import { Piscina } from 'multikernel/pool'
import { KernelError } from 'multikernel'
import { AbortError, Pool } from 'multikernel/pool'

const pool = new Pool({
  filename: new URL('./pool_task.mjs', import.meta.url),
  maxThreads: 2, // two worker domains (the pool boots a runtime with 2 cores)
  concurrentTasksPerWorker: 4,
  maxQueue: 8,
})

console.log('sum:', await pool.run(1000)) // 500500
console.log('echo:', await pool.run({ a: [1, 2], at: new Date(0) }, { name: 'echo' }))

// A running task hears its abort; its worker lives on.
const ac = new AbortController()
const slow = pool.run(60_000, { name: 'slow', signal: ac.signal })
setTimeout(() => ac.abort(new Error('changed my mind')), 20)
await slow.catch((e) => console.log('aborted:', e instanceof AbortError, e.cause.message))

// A full queue refuses at once with a code.
const burst = Array.from({ length: 20 }, () => pool.run(10, { name: 'slow' }).catch((e) => e))
const refused = (await Promise.all(burst)).filter((e) => KernelError.is(e, 'QUEUE_FULL'))
// 2 workers x 4 in flight and 8 queued were taken (the aborted task's slot frees
// when its worker answers): the rest, 4 or 5, were refused.
console.log('refused:', refused.length >= 4)

console.log('completed:', pool.completed, 'p50 run time (ms):', pool.histogram.runTime.p50 > 0)
await pool.close() // finishes what is queued, stops the workers and the runtime
console.log('closed')
