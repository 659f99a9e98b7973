/**
 * The limit of the remote suite: bare NATS request/reply between the bench process
 * and a responder process (responder.ts) through the same broker, 8 bytes each way,
 * with the client's defaults (one shared reply subscription, one publish per request).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { connect, type NatsConnection } from '@nats-io/transport-node'
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

/** `count` requests one at a time: seconds taken. */
export async function bareRoundTrips(nc: NatsConnection, count: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) await nc.request(SUBJECT, PAYLOAD, { timeout: 5000 })
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
