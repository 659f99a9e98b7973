/**
 * One server of the server suite, in a child process (forked with IPC) so that
 * the load generator does not share its event loop: Fastify with the work on
 * multikernel/pool, on piscina (tuned), or inline. Routes: GET /cpu (the sum of
 * 1..CPU_N) and GET /trivial. Both pools get the same wiring per request: an
 * AbortController aborted when the client goes away.
 *
 *   argv: [mode: 'pool' | 'piscina' | 'inline', CPU_N]
 *   -> { port } over IPC once listening; 'stop' <- closes and exits.
 */
import { availableParallelism } from 'node:os'
import Fastify, { type FastifyReply } from 'fastify'
import { Piscina } from 'piscina'
import { fastifyPool } from '../../src/pool/index.js'
import { cpu, trivial } from './task.js'

const TASK = new URL('./task.js', import.meta.url)
export const PER_WORKER = 32

const mode = process.argv[2]
const n = Number(process.argv[3])
const threads = availableParallelism()
const app = Fastify()

/** piscina with the same per-request abort wiring as reply.runTask. */
function piscinaRoute(p: Piscina, name: string, arg: number) {
  return (_req: unknown, reply: FastifyReply): Promise<unknown> => {
    const res = reply.raw
    const ac = new AbortController()
    const onClose = (): void => {
      if (!res.writableEnded) ac.abort()
    }
    res.once('close', onClose)
    return p.run(arg, { name, signal: ac.signal }).then(
      (v: unknown) => {
        res.off('close', onClose)
        return { v }
      },
      (e: unknown) => {
        res.off('close', onClose)
        throw e
      },
    )
  }
}

if (mode === 'pool') {
  await app.register(fastifyPool, {
    pool: {
      filename: TASK,
      maxThreads: threads,
      concurrentTasksPerWorker: PER_WORKER,
      recordTiming: false,
    },
  })
  app.get('/cpu', async (_req, reply) => ({ v: await reply.runTask(n, { name: 'cpu' }) }))
  app.get('/trivial', async (_req, reply) => ({ v: await reply.runTask(1, { name: 'trivial' }) }))
} else if (mode === 'piscina') {
  const p = new Piscina({
    filename: TASK.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    atomics: 'async',
    concurrentTasksPerWorker: PER_WORKER,
    recordTiming: false,
  })
  app.addHook('onClose', async () => p.destroy())
  app.get('/cpu', piscinaRoute(p, 'cpu', n))
  app.get('/trivial', piscinaRoute(p, 'trivial', 1))
} else {
  app.get('/cpu', async () => ({ v: cpu(n) }))
  app.get('/trivial', async () => ({ v: trivial(1) }))
}

await app.listen({ host: '127.0.0.1', port: 0 })
const addr = app.server.address()
process.send?.({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 })
process.on('message', (m) => {
  if (m === 'stop') void app.close().then(() => process.exit(0))
})
process.on('disconnect', () => void app.close().then(() => process.exit(0)))
