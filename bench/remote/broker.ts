/**
 * A NATS broker for the remote suite: Debian's nats-server bound to 127.0.0.1 on a
 * port it picks (`-p -1`), found through the ports file it writes once listening.
 * (The tests' rig, test/shared/nats.ts, does the same with restarts; bench/ does not
 * import from test/.) Every wait is bounded; stop() kills it and removes its directory.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

export interface BenchBroker {
  url: string
  stop(): Promise<void>
}

/** nats-server from PATH, else /usr/sbin or /usr/bin (where Debian puts it). */
export function natsServer(): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/bin',
  ]
  for (const d of dirs) {
    try {
      accessSync(join(d, 'nats-server'), constants.X_OK)
      return join(d, 'nats-server')
    } catch {
      // not here
    }
  }
  throw new Error("nats-server not found: the remote suite needs Debian's nats-server package")
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Kill `child` (SIGTERM, then SIGKILL after `graceMs`) and wait for its exit, bounded. */
export async function endChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  if ((await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) === false) {
    child.kill('SIGKILL')
    await Promise.race([exited, sleep(graceMs)])
  }
}

export async function startBenchBroker(timeoutMs = 10_000): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mk-bench-nats-'))
  const child = spawn(natsServer(), ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir], {
    detached: false,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()))
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  const stop = async (): Promise<void> => {
    process.off('exit', kill)
    await endChild(child)
    rmSync(dir, { recursive: true, force: true })
  }
  const end = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop()
      throw new Error(`nats-server exited before it was ready: ${err}`)
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'))
    if (file !== undefined) {
      try {
        const url = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] })
          .nats?.[0]
        if (url !== undefined) return { url, stop }
      } catch {
        // caught mid-write: read again
      }
    }
    if (Date.now() > end) {
      await stop()
      throw new Error(`nats-server wrote no ports file within ${timeoutMs} ms: ${err}`)
    }
    await sleep(10)
  }
}
