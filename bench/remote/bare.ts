/**
 * The limit of the remote suite: bare NATS request/reply between the bench process
 * and a responder process (responder.ts) through the same broker, 8 bytes each way,
 * with the client's defaults (one shared reply subscription, one publish per request).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { endChild } from './broker.js'

export const SUBJECT = 'bench.echo'
const PAYLOAD = new Uint8Array(8)
const RESPONDER = fileURLToPath(new URL('./responder.js', import.meta.url))

export interface BarePeer {
  nc: NatsConnection
  close(): Promise<void>
}

/** Start the responder process and connect the requester; both bounded. */
export async function startBare(url: string, timeoutMs = 10_000): Promise<BarePeer> {
  const child: ChildProcess = spawn(process.execPath, [RESPONDER, url, SUBJECT], {
    detached: false,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  const collect = (b: Buffer): void => {
    out += b.toString()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    const check = (): void => {
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve(true)
      }
    }
    child.stdout?.on('data', check)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(out.includes('ready'))
    })
  })
  if (!ready) {
    await endChild(child)
    throw new Error(`the NATS responder did not start: ${out}`)
  }
  const nc = await connect({ servers: url, timeout: timeoutMs })
  return {
    nc,
    async close() {
      await nc.close()
      child.stdin?.end()
      await endChild(child)
    },
  }
}

/** `count` requests one at a time: seconds taken; each round trip's ms into `lat`. */
export async function bareRoundTrips(
  nc: NatsConnection,
  count: number,
  lat: Float64Array,
): Promise<number> {
  const t0 = performance.now()
  let t = t0
  for (let i = 0; i < count; i++) {
    await nc.request(SUBJECT, PAYLOAD, { timeout: 5000 })
    const now = performance.now()
    lat[i] = now - t
    t = now
  }
  return (performance.now() - t0) / 1000
}

/** `count` requests with `window` outstanding (each reply starts the next): seconds taken. */
export function barePipelined(nc: NatsConnection, count: number, window: number): Promise<number> {
  const t0 = performance.now()
  let started = 0
  let done = 0
  return new Promise<number>((resolve, reject) => {
    const next = (): void => {
      started++
      nc.request(SUBJECT, PAYLOAD, { timeout: 10_000 }).then(() => {
        if (++done === count) resolve((performance.now() - t0) / 1000)
        else if (started < count) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, count); i++) next()
  })
}

/**
 * The bare peer at its best: the same request/reply on the wire (a publish with a
 * reply subject, answered by the same responder), without nc.request's per-request
 * bookkeeping (a promise, a timer and a mux entry each): one reply subscription, and
 * each reply publishes the next request, `window` outstanding. Seconds taken; a lost
 * reply fails after `timeoutMs` instead of hanging. With `window` 1, each round
 * trip's ms goes into `lat` when given.
 */
export async function barePubSub(
  nc: NatsConnection,
  count: number,
  window: number,
  lat?: Float64Array,
  timeoutMs = 60_000,
): Promise<number> {
  const inbox = `_INBOX.bench.${randomBytes(8).toString('hex')}`
  let sub: Subscription | undefined
  let started = 0
  let done = 0
  let t0 = 0
  let t = 0
  let timer: NodeJS.Timeout | undefined
  const finished = new Promise<number>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bare pub/sub: ${done}/${count} replies in ${timeoutMs} ms`)),
      timeoutMs,
    )
    sub = nc.subscribe(inbox, {
      max: count,
      callback: (err) => {
        if (err !== null) {
          reject(err)
          return
        }
        if (lat !== undefined && window === 1) {
          const now = performance.now()
          lat[done] = now - t
          t = now
        }
        if (++done === count) resolve((performance.now() - t0) / 1000)
        else if (started < count) {
          started++
          nc.publish(SUBJECT, PAYLOAD, { reply: inbox })
        }
      },
    })
  })
  finished.catch(() => {}) // awaited below; never an unhandled rejection if flush fails
  try {
    await nc.flush() // the reply subscription is on the broker before the first request
    t0 = performance.now()
    t = t0
    while (started < Math.min(window, count)) {
      started++
      nc.publish(SUBJECT, PAYLOAD, { reply: inbox })
    }
    return await finished
  } finally {
    clearTimeout(timer)
    if (sub !== undefined && !sub.isClosed()) sub.unsubscribe()
  }
}
