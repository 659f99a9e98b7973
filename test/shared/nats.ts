// The remote-core test rig: a real NATS broker (Debian's nats-server) bound to
// 127.0.0.1 on a free port, and `multikernel node` child processes that offer their
// cores to a runtime through it. Every wait is bounded; every broker and node is
// registered so `stopAll()` (in afterAll) leaves no process behind, and a child is
// also killed when the test process exits or dies (see spawnChild).
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HANG_MS, sleep } from './bounded.js'

/** The built CLI the nodes run (tests run the same code as users). */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

/** Where Debian puts nats-server; /usr/sbin is not on a non-root PATH. */
const FALLBACK_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin']

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The nats-server binary: PATH first, then /usr/sbin, /usr/bin. Throws if it is absent. */
export function natsServerPath(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...FALLBACK_DIRS]
  for (const dir of dirs) {
    const p = join(dir, 'nats-server')
    if (executable(p)) return p
  }
  throw new Error(
    'nats-server not found (looked in PATH, /usr/sbin, /usr/bin, /usr/local/bin): the remote ' +
      "tests need a real broker; install Debian's package (apt-get install nats-server; .ci/run does)",
  )
}

// ------------------------------------------------------------------ children

/** Every live child of the rig, killed by stopAll() or when this process exits. */
const live = new Set<ChildProcess>()
const stoppers = new Set<() => Promise<unknown>>()
let exitHook = false

/**
 * setpriv(1) from util-linux asks the kernel to SIGKILL the child when this process
 * dies (PR_SET_PDEATHSIG), so even a test process killed with SIGKILL leaks nothing;
 * it execs the program, so the child's pid is the program's.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(executable)

function spawnChild(cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  if (!exitHook) {
    exitHook = true
    // A normal exit (or an uncaught error) of the test process: kill what is left.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
  }
  const [file, argv] =
    SETPRIV === undefined ? [cmd, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]]
  // detached: false keeps the child in our process group: a Ctrl-C reaches it too.
  const child = spawn(file, argv, {
    detached: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** Exit code (null when ended by a signal), settled once the child has exited. */
function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

/** Ask with `signal`, then SIGKILL after `graceMs`; resolves once the child has exited. */
async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<number | null> {
  const exited = exitOf(child)
  if (child.exitCode !== null || child.signalCode !== null) return exited
  child.kill(signal)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs)
  })
  const first = await Promise.race([exited, late])
  clearTimeout(timer)
  if (first !== 'late') return first
  child.kill('SIGKILL')
  // SIGKILL cannot be ignored; still bounded so a stuck reap fails loudly.
  const again = await Promise.race([exited, sleep(HANG_MS).then(() => 'late' as const)])
  if (again === 'late') throw new Error(`child ${child.pid} did not exit after SIGKILL`)
  return again
}

interface Output {
  text: () => string
  /** Call `f` on every chunk; returns the unsubscribe. */
  onData: (f: () => void) => () => void
  /** Settles once both pipes closed (the last output is in), or after `ms`. */
  drained: (ms: number) => Promise<void>
}

function collect(child: ChildProcess): Output {
  let out = ''
  const listeners = new Set<() => void>()
  const add = (b: Buffer): void => {
    out += b.toString('utf8')
    for (const f of listeners) f()
  }
  child.stdout?.on('data', add)
  child.stderr?.on('data', add)
  let closed = false
  const close = new Promise<void>((resolve) =>
    child.once('close', () => {
      closed = true
      resolve()
    }),
  )
  return {
    text: () => out,
    onData: (f) => {
      listeners.add(f)
      return () => listeners.delete(f)
    },
    drained: (ms) => (closed ? Promise.resolve() : Promise.race([close, sleep(ms)])),
  }
}

// ------------------------------------------------------------------ broker

export interface Broker {
  /** nats://127.0.0.1:PORT */
  url: string
  port: number
  /** The pid of the current nats-server process. */
  readonly pid: number
  /** nats-server's output so far (of the current process). */
  output(): string
  /** Stop the server (SIGTERM, then SIGKILL) and remove its temporary directory. */
  stop(): Promise<void>
  /** Stop, then start again on the SAME port (retried while the port is briefly busy). */
  restart(): Promise<void>
}

interface Started {
  child: ChildProcess
  dir: string
  port: number
  output: () => string
}

/** Resolves once 127.0.0.1:port accepts a TCP connection; false after `ms`. */
async function listening(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port })
      s.setTimeout(500)
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
      s.once('timeout', () => {
        s.destroy()
        resolve(false)
      })
    })
    if (ok) return true
    await sleep(20)
  }
  return false
}

/** One nats-server process; resolves when its ports file names its client port. */
async function launch(port: number, ms: number): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'mk-nats-'))
  const child = spawnChild(natsServerPath(), [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '--ports_file_dir',
    dir,
  ])
  const out = collect(child)
  const fail = async (why: string): Promise<never> => {
    await terminate(child, 'SIGKILL', 1000)
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`nats-server ${why}:\n${out.text()}`)
  }
  const end = Date.now() + ms
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`exited (${child.exitCode ?? child.signalCode}) before it was ready`)
    }
    // nats-server writes nats-server_<pid>.ports once its listeners are up.
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'))
    if (file !== undefined) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] }
        const url = ports.nats?.[0]
        const m = url === undefined ? null : /:(\d+)$/.exec(url)
        if (m !== null) return { child, dir, port: Number(m[1]), output: out.text }
      } catch {
        // Read while it was being written: look again.
      }
    }
    if (Date.now() > end) return fail(`wrote no ports file within ${ms} ms`)
    await sleep(10)
  }
}

/**
 * A nats-server on 127.0.0.1: on `opts.port`, or a free port the server picks
 * (`-p -1`). Registered with stopAll().
 */
export async function startBroker(opts: { port?: number } = {}): Promise<Broker> {
  let cur = await launch(opts.port ?? -1, HANG_MS)
  const port = cur.port
  let stopped = false
  const stopCurrent = async (): Promise<void> => {
    await terminate(cur.child, 'SIGTERM', 5000)
    rmSync(cur.dir, { recursive: true, force: true })
  }
  const broker: Broker = {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid(): number {
      return cur.child.pid ?? -1
    },
    output: () => cur.output(),
    stop: async () => {
      if (stopped) return
      stopped = true
      stoppers.delete(broker.stop)
      await stopCurrent()
    },
    restart: async () => {
      if (stopped) throw new Error('restart of a stopped broker')
      await stopCurrent()
      // The port may linger a moment after the old server's exit: try again a few times.
      let last: unknown
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          cur = await launch(port, HANG_MS)
          if (!(await listening(port, 5000))) {
            await terminate(cur.child, 'SIGKILL', 1000)
            throw new Error(`nats-server not listening on ${port} after restart`)
          }
          return
        } catch (e) {
          last = e
          await sleep(100)
        }
      }
      stopped = true
      stoppers.delete(broker.stop)
      throw new Error(`broker could not restart on port ${port}: ${String(last)}`)
    },
  }
  stoppers.add(broker.stop)
  return broker
}

// ------------------------------------------------------------------ node

export interface NodeOptions {
  url: string
  name: string
  cores: number
  /** Passed in the environment as MULTIKERNEL_SECRET (never on the command line). */
  secret: string
  /** More arguments after `node --nats ... --cores ... --name ...`. */
  args?: string[]
  /** More environment variables. */
  env?: Record<string, string>
}

export interface NodeProcess {
  child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** Resolves once the output contains `text`; rejects with the output on timeout or exit. */
  waitFor(text: string | RegExp, ms?: number): Promise<void>
  /** Send `signal` (SIGTERM by default; SIGKILL after a grace period); resolves on exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>
  /** The exit code, once it has exited (null when ended by a signal). */
  exited: Promise<number | null>
}

/**
 * `multikernel node --nats <url> --cores <n> --name <name>` as a child process. It
 * prints a line with `up` once connected and one with `joined` once a runtime took it.
 */
export function startNode(opts: NodeOptions): NodeProcess {
  const child = spawnChild(
    process.execPath,
    [
      CLI,
      'node',
      '--nats',
      opts.url,
      '--cores',
      String(opts.cores),
      '--name',
      opts.name,
      ...(opts.args ?? []),
    ],
    { ...process.env, ...opts.env, MULTIKERNEL_SECRET: opts.secret },
  )
  const out = collect(child)
  const exited = exitOf(child)
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    stoppers.delete(stop)
    return terminate(child, signal, 5000)
  }
  const stop = (): Promise<number | null> => kill('SIGKILL')
  stoppers.add(stop)
  const seen = (text: string | RegExp): boolean =>
    typeof text === 'string' ? out.text().includes(text) : text.test(out.text())
  const waitFor = (text: string | RegExp, ms = HANG_MS): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let done = false
      const finish = (err?: Error): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        unsubscribe()
        if (err) reject(err)
        else resolve()
      }
      const timer = setTimeout(
        () =>
          finish(
            new Error(`node ${opts.name}: no ${String(text)} within ${ms} ms:\n${out.text()}`),
          ),
        ms,
      )
      const unsubscribe = out.onData(() => {
        if (seen(text)) finish()
      })
      void exited.then(async (code) => {
        // Output that arrives with the exit still counts.
        await out.drained(500)
        if (seen(text)) finish()
        else
          finish(
            new Error(
              `node ${opts.name} exited (${code ?? child.signalCode}) before ${String(text)}:\n${out.text()}`,
            ),
          )
      })
      if (seen(text)) finish()
    })
  return { child, output: out.text, waitFor, kill, exited }
}

/** Stop every broker and node the rig started and has not stopped yet (for afterAll). */
export async function stopAll(): Promise<void> {
  const all = [...stoppers]
  stoppers.clear()
  const results = await Promise.allSettled(all.map((s) => s()))
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}
