// Plumbing for the session port suites: a pair of ports on one thread, a worker that
// runs the far end (fixtures/port-worker.mjs), and the error a promise rejects with.
import { Worker } from 'node:worker_threads'
import { Channel } from '../../dist/src/ring/index.js'
import { SessionPort, type SessionPortOptions } from '../../dist/src/session/port.js'
import { within } from '../shared/bounded.js'

export { within }

/** Both ends on this thread: a client over side A, a server over side B; started. */
export function pair(
  server: Partial<SessionPortOptions> = {},
  capacity = 1 << 14,
  client: Partial<SessionPortOptions> = {},
): { client: SessionPort; server: SessionPort; ch: Channel } {
  const ch = Channel.create({ capacity })
  const c = new SessionPort(ch, { ...client, role: 'client' })
  const s = new SessionPort(Channel.attach(ch.buffer), { ...server, role: 'server' })
  c.start()
  s.start()
  return { client: c, server: s, ch }
}

interface Report {
  type: 'done' | 'fail'
  error?: string
}

const running = new Set<Worker>()

/** The far end on a worker; `result` is its report (rejects on 'fail', error or early exit). */
export class PortWorker<R extends object = Record<string, unknown>> {
  readonly worker: Worker
  readonly result: Promise<R>

  constructor(data: { mode: string; sab: SharedArrayBuffer } & Record<string, unknown>) {
    this.worker = new Worker(new URL('./fixtures/port-worker.mjs', import.meta.url), {
      workerData: data,
    })
    running.add(this.worker)
    this.result = new Promise<R>((resolve, reject) => {
      this.worker.on('message', (m: Report) => {
        if (m.type === 'done') resolve(m as unknown as R)
        else reject(new Error(`port worker (${data.mode}): ${m.error}`))
      })
      this.worker.on('error', reject)
      this.worker.on('exit', (code) => {
        running.delete(this.worker)
        reject(new Error(`port worker (${data.mode}) exited with code ${code} before reporting`))
      })
    })
    this.result.catch(() => {})
  }
}

export async function terminateAll(): Promise<void> {
  await Promise.all([...running].map((w) => w.terminate()))
  running.clear()
}

/** What `p` rejected with (fails when it resolves, or hangs past the bound). */
export async function rejection(p: Promise<unknown>, what = 'a rejection'): Promise<Error> {
  try {
    const v = await within(p, what)
    throw new Error(`expected ${what}, got the value ${String(v)}`)
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('expected ')) throw err
    return err as Error
  }
}

/** What `fn` threw synchronously. */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a throw')
}
