// The Fastify server of examples/fastify.mjs (issue 13, part 3), with real
// requests on 127.0.0.1 and with inject: 503 with Retry-After under overload, a
// client that disconnects aborts its task (its worker frees the slot long before
// the task would have ended), closing the server drains in-flight requests and
// closes the pool, and nothing is left running.
import { execFile } from 'node:child_process'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import type { Runtime } from 'multikernel'
import { within, until } from '../shared/bounded.js'

const EXAMPLE = new URL('../../examples/fastify.mjs', import.meta.url)
interface Example {
  buildServer(o?: { pool?: object; retryAfter?: number }): Promise<FastifyInstance>
}
const { buildServer } = (await import(EXAMPLE.href)) as Example

const apps: FastifyInstance[] = []
async function server(pool: object, retryAfter?: number): Promise<FastifyInstance> {
  const app = await within(buildServer({ pool, retryAfter }), 'server up')
  apps.push(app)
  return app
}
afterEach(async () => {
  await within(Promise.all(apps.splice(0).map((a) => a.close())), 'close servers')
})

/** A GET on 127.0.0.1 that the caller may cut off. */
function get(
  port: number,
  path: string,
): { done: Promise<{ status: number; body: string }>; cut(): void } {
  let cut = (): void => {}
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
    cut = () => req.destroy()
  })
  return { done, cut }
}

const portOf = (app: FastifyInstance): number => {
  const a = app.server.address()
  if (a === null || typeof a === 'string') throw new Error('not listening')
  return a.port
}

describe('fastify with the pool', () => {
  it('answers through the pool (inject) and the pool decorates the instance', async () => {
    const app = await server({ maxThreads: 2 })
    const r = await app.inject({ method: 'GET', url: '/sum/100' })
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({ sum: 5050 })
    expect(app.pool.completed).toBe(1)
  })

  it('a full queue answers 503 with Retry-After, at once', async () => {
    const app = await server({ maxThreads: 1, concurrentTasksPerWorker: 1, maxQueue: 1 }, 7)
    const rs = await within(
      Promise.all(Array.from({ length: 5 }, () => app.inject({ method: 'GET', url: '/slow/100' }))),
      'five requests',
    )
    const codes = rs.map((r) => r.statusCode).sort()
    // One runs, one waits, three are refused.
    expect(codes).toEqual([200, 200, 503, 503, 503])
    for (const r of rs.filter((x) => x.statusCode === 503)) {
      expect(r.headers['retry-after']).toBe('7')
      expect(r.json()).toMatchObject({ statusCode: 503, code: 'QUEUE_FULL' })
    }
  })

  it('a client that disconnects aborts its task in the worker', async () => {
    const app = await server({ maxThreads: 1 })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = portOf(app)
    const r = get(port, '/slow/60000')
    void r.done.catch(() => undefined)
    await until(() => app.pool.threads[0]?.inFlight === 1, 'the task runs')
    r.cut()
    // The task heard its abort and ended: its worker's slot is free again, far
    // sooner than the minute it would have slept.
    await until(() => app.pool.threads[0].inFlight === 0, 'the worker let go of the task')
    const next = await within(get(port, '/sum/10').done, 'the next request')
    expect(next).toEqual({ status: 200, body: JSON.stringify({ sum: 55 }) })
  })

  it('closing the server drains in-flight requests, then closes the pool and its runtime', async () => {
    const app = await server({ maxThreads: 2 })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const inflight = get(portOf(app), '/slow/200')
    await until(() => app.pool.threads.some((t) => t.inFlight === 1), 'in flight')
    const rt = app.pool.runtime as Runtime
    await within(app.close(), 'close')
    expect(await within(inflight.done, 'the in-flight answer')).toEqual({
      status: 200,
      body: JSON.stringify({ said: 'slept 200 ms' }),
    })
    expect(app.pool.threads).toEqual([])
    expect(rt.isShutdown).toBe(true)
    await expect(app.pool.run(1)).rejects.toMatchObject({
      name: 'AbortError',
      cause: 'queue is being terminated',
    })
  })

  it('the example runs as a program', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [fileURLToPath(EXAMPLE), '--once'],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    expect(out).toContain('sum: { sum: 500500 }')
    expect(out).toContain("slow: { said: 'slept 5 ms' }")
    expect(out).toContain('closed, pool threads: 0')
  })

  it('examples/pool.mjs runs', async () => {
    const file = fileURLToPath(new URL('../../examples/pool.mjs', import.meta.url))
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [file], { timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    expect(out).toContain('sum: 500500')
    expect(out).toContain('aborted: true changed my mind')
    expect(out).toContain('refused: true')
    expect(out).toContain('closed')
  })
})
