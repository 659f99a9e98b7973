/**
 * Our side of the remote suite: a `multikernel node` child process (one core) joined
 * through the broker by a runtime in the bench process with one local core, so the
 * remote core is core 1 (remote cores are numbered after the local ones). The same
 * two processes as the bare peer: the bench process asks, the other answers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { boot, KernelError, type BootOptions, type Runtime, type Session } from '../../src/index.js'
import { TRIVIAL_DOMAIN } from '../pm/measure.js'
import { endChild } from './broker.js'
import { ECHO_SERVICE } from './echo-server.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
export const NODE_NAME = 'b1'
/** The remote core: after the runtime's one local core. */
export const REMOTE_CORE = 1

export interface OurSide {
  rt: Runtime
  node: ChildProcess
  output(): string
  close(): Promise<void>
}

/** Start the node, boot a runtime that waits for it to join; both bounded. */
export async function startOurs(url: string, timeoutMs = 20_000): Promise<OurSide> {
  const secret = randomBytes(32).toString('hex')
  const node = spawn(
    process.execPath,
    [CLI, 'node', '--nats', url, '--cores', '1', '--name', NODE_NAME],
    {
      detached: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MULTIKERNEL_SECRET: secret },
    },
  )
  let out = ''
  const collect = (b: Buffer): void => {
    out += b.toString()
  }
  node.stdout?.on('data', collect)
  node.stderr?.on('data', collect)
  const kill = (): void => void node.kill('SIGKILL')
  process.once('exit', kill)
  const opts: BootOptions = {
    cores: 1,
    remote: { servers: url, nodes: [NODE_NAME], secret },
  }
  let timer: NodeJS.Timeout | undefined
  try {
    const rt = await Promise.race([
      boot(opts),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`node ${NODE_NAME} did not join within ${timeoutMs} ms`)),
          timeoutMs,
        )
      }),
    ])
    if (rt.cores !== 2) throw new Error(`expected 1 local + 1 remote core, got ${rt.cores}`)
    return {
      rt,
      node,
      output: () => out,
      async close() {
        try {
          await rt.shutdown()
        } finally {
          process.off('exit', kill)
          await endChild(node)
        }
      },
    }
  } catch (e) {
    process.off('exit', kill)
    await endChild(node)
    throw new Error(`remote runtime: ${String(e)}\nnode output:\n${out}`)
  } finally {
    clearTimeout(timer)
  }
}

/** `count` pings of the remote core one at a time: seconds taken; each one's ms into `lat`. */
export async function ourRoundTrips(
  rt: Runtime,
  count: number,
  lat: Float64Array,
): Promise<number> {
  const t0 = performance.now()
  let t = t0
  for (let i = 0; i < count; i++) {
    await rt.ping(REMOTE_CORE)
    const now = performance.now()
    lat[i] = now - t
    t = now
  }
  return (performance.now() - t0) / 1000
}

/** `count` pings of the remote core, `window` in flight (rt.pingMany): seconds taken. */
export async function ourPipelined(rt: Runtime, count: number, window: number): Promise<number> {
  const t0 = performance.now()
  await rt.pingMany(REMOTE_CORE, count, window)
  return (performance.now() - t0) / 1000
}

/** One trivial domain on the remote core: spawn, then wait (reaped); it must exit 0. */
async function spawnOne(rt: Runtime): Promise<void> {
  // The program's path exists on the node's host: here the same machine.
  const r = await rt.wait(await rt.spawn(TRIVIAL_DOMAIN, { core: REMOTE_CORE }), { reap: true })
  if (!('exitCode' in r) || r.exitCode !== 0) {
    throw new Error(`a remote trivial domain did not exit with 0: ${JSON.stringify(r)}`)
  }
}

/** `count` remote spawn + wait(reap), `window` in flight: seconds taken. */
export async function ourSpawnWait(rt: Runtime, count: number, window: number): Promise<number> {
  const t0 = performance.now()
  let started = 0
  let done = 0
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      started++
      spawnOne(rt).then(() => {
        if (++done === count) resolve()
        else if (started < count) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, count); i++) next()
  })
  return (performance.now() - t0) / 1000
}

const ECHO_SERVER = new URL('./echo-server.js', import.meta.url)
const PAYLOAD = new Uint8Array(8)

/**
 * A session from this runtime's main thread to a server domain on the remote core
 * (echo-server.ts): its calls cross the broker to the node, as the bare peer's
 * requests do. Opened once the server serves (bounded).
 */
export async function openEchoSession(rt: Runtime, timeoutMs = 20_000): Promise<Session> {
  await rt.spawn(ECHO_SERVER, { core: REMOTE_CORE, label: 'bench' })
  const end = Date.now() + timeoutMs
  for (;;) {
    try {
      return await rt.session(ECHO_SERVICE, { label: 'bench' })
    } catch (err) {
      if (!KernelError.is(err, 'SERVICE_DENIED') || Date.now() > end) throw err
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}

/** `count` session calls (8 bytes echoed) one at a time: seconds; each one's ms into `lat`. */
export async function ourSessionCalls(
  s: Session,
  count: number,
  lat: Float64Array,
): Promise<number> {
  const t0 = performance.now()
  let t = t0
  for (let i = 0; i < count; i++) {
    await s.call('echo', PAYLOAD)
    const now = performance.now()
    lat[i] = now - t
    t = now
  }
  return (performance.now() - t0) / 1000
}

/** `count` session calls with `window` in flight (each answer starts the next): seconds. */
export function ourSessionPipelined(s: Session, count: number, window: number): Promise<number> {
  const t0 = performance.now()
  let started = 0
  let done = 0
  return new Promise<number>((resolve, reject) => {
    const next = (): void => {
      started++
      s.call('echo', PAYLOAD).then(() => {
        if (++done === count) resolve((performance.now() - t0) / 1000)
        else if (started < count) next()
      }, reject)
    }
    for (let i = 0; i < Math.min(window, count); i++) next()
  })
}
