/**
 * A Fastify plugin that embeds a pool: `app.pool` is the pool, and
 * `reply.runTask(task, opts)` runs a task for this request, so that
 *  - a client that disconnects before its answer aborts its task (the response's
 *    'close' before it ended fires the task's signal; queued, it never runs);
 *  - a full queue answers 503 with Retry-After (QUEUE_FULL), at once;
 *  - closing the server (app.close()) lets in-flight requests finish, then closes
 *    the pool, which drains its tasks (and ends the runtime it booted).
 * Fastify is only a type here: the plugin is plain functions Fastify calls.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify'
import { KernelError } from '../errors.js'
import type { PoolOptions } from './options.js'
import { Pool, type RunOptions } from './pool.js'

export interface FastifyPoolOptions {
  /** A pool to use, or the options of one the plugin makes (and closes with the server). */
  pool: Pool | PoolOptions
  /** Seconds a 503 asks the client to wait (Retry-After). Default 1. */
  retryAfter?: number
  /** Close the pool when the server closes. Default true. */
  closePool?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    pool: Pool
  }
  interface FastifyReply {
    /** Run a task for this request: aborted if the client goes away; 503 when the queue is full. */
    runTask<R = unknown>(task: unknown, opts?: Omit<RunOptions, 'signal'>): Promise<R>
  }
}

/** The error a full queue throws out of runTask: Fastify answers it with its statusCode. */
class ServiceUnavailable extends Error {
  readonly statusCode = 503
  readonly code = 'QUEUE_FULL'
  constructor(cause: unknown) {
    super('Service Unavailable: the task queue is full', { cause })
  }
}

const plugin: FastifyPluginAsync<FastifyPoolOptions> = async (
  app: FastifyInstance,
  opts: FastifyPoolOptions,
) => {
  const pool = opts.pool instanceof Pool ? opts.pool : new Pool(opts.pool)
  const retryAfter = String(opts.retryAfter ?? 1)
  app.decorate('pool', pool)
  app.decorateReply('runTask', function runTask<
    R,
  >(this: FastifyReply, task: unknown, runOpts: Omit<RunOptions, 'signal'> = {}): Promise<R> {
    const res = this.raw
    const ac = new AbortController()
    // 'close' before the response ended: the client went away.
    const onClose = (): void => {
      if (!res.writableEnded) ac.abort(new Error('client disconnected'))
    }
    res.once('close', onClose)
    return (pool.run(task, { ...runOpts, signal: ac.signal }) as Promise<R>).then(
      (v) => {
        res.off('close', onClose)
        return v
      },
      (err: unknown) => {
        res.off('close', onClose)
        if (KernelError.is(err, 'QUEUE_FULL')) {
          this.header('retry-after', retryAfter)
          throw new ServiceUnavailable(err)
        }
        throw err
      },
    )
  })
  await pool.ready
  if (opts.closePool ?? true) {
    // onClose runs once the server stopped listening and its requests finished.
    app.addHook('onClose', async () => {
      await pool.close()
    })
  }
}

// fastify-plugin's two marks, set by hand: the decorators reach the parent
// instance (no encapsulation), and the plugin has a name in Fastify's errors.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'multikernel-pool',
})

export const fastifyPool = plugin
