/* global fetch */
// examples/fastify.mjs: a Fastify server that runs its CPU work on multikernel's
// pool. `app.pool` is the pool; `reply.runTask(task)` runs a task for this
// request: a client that disconnects aborts its task, a full queue answers 503
// with Retry-After, and app.close() lets in-flight requests finish, then closes
// the pool (which ends the runtime it booted).
//
//   node examples/fastify.mjs          # serves http://127.0.0.1:3000 until Ctrl-C
//   node examples/fastify.mjs --once   # answers a few requests to itself and exits
import Fastify from 'fastify'
import { fastifyPool } from 'multikernel/pool'
import { pathToFileURL } from 'node:url'

/** The server; `pool` is the pool's options (or a pool). */
export async function buildServer({ pool = {}, retryAfter = 1 } = {}) {
  const app = Fastify()
  await app.register(fastifyPool, {
    pool: pool.run ? pool : { filename: new URL('./pool_task.mjs', import.meta.url), ...pool },
    retryAfter,
  })
  // CPU-bound: the sum of 1..n on a worker domain.
  app.get('/sum/:n', async (req, reply) => ({ sum: await reply.runTask(Number(req.params.n)) }))
  // Async and abortable: the task's signal fires if the client leaves.
  app.get('/slow/:ms', async (req, reply) => ({
    said: await reply.runTask(Number(req.params.ms), { name: 'slow' }),
  }))
  // Inline, for comparison: no pool.
  app.get('/hello', async () => ({ hello: 'world' }))
  return app
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const once = process.argv.includes('--once')
  const app = await buildServer({ pool: { maxThreads: 2, maxQueue: 64 } })
  const url = await app.listen({ host: '127.0.0.1', port: once ? 0 : 3000 })
  if (!once) {
    console.log(`listening on ${url}`)
    process.once('SIGINT', () => app.close())
  } else {
    console.log('sum:', await (await fetch(`${url}/sum/1000`)).json())
    console.log('slow:', await (await fetch(`${url}/slow/5`)).json())
    await app.close()
    console.log('closed, pool threads:', app.pool.threads.length)
  }
}
