// Shared by the remote-core suites (lifecycle, faults, security): a secret per
// file, boot with a remote option, an event log read with bounded waits, the
// domain programs of test/remote/programs, and a scratch directory for the files
// remote domains leave (a node is another process: files are how it reports).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import {
  boot,
  KernelError,
  type BootOptions,
  type KernelErrorCode,
  type RemoteOptions,
  type Runtime,
  type RuntimeEvent,
} from 'multikernel'
import { within, until } from '../shared/bounded.js'
import { startNode, type Broker, type NodeProcess } from '../shared/nats.js'

export { within, until, sleep, HANG_MS } from '../shared/bounded.js'

/** A fresh shared secret (hex: well over the 16 bytes asked for). */
export function secret(): string {
  return randomBytes(24).toString('hex')
}

/** A domain program of test/remote/programs (a file URL: the node is on this host). */
export function program(name: string): URL {
  return new URL(`./programs/${name}`, import.meta.url)
}

/** A `multikernel node` child that has connected (its `up` line printed). */
export async function node(
  broker: Broker,
  name: string,
  cores: number,
  key: string,
  args: string[] = [],
): Promise<NodeProcess> {
  const n = startNode({ url: broker.url, name, cores, secret: key, args })
  await n.waitFor(`node ${name} up`)
  return n
}

/** Boot with one local core and remote nodes, with short heartbeats. */
export function bootRemote(
  broker: Broker,
  nodes: string[] | 'any',
  key: string,
  extra: Omit<BootOptions, 'remote'> & { remote?: Partial<RemoteOptions> } = {},
): Promise<Runtime> {
  const { remote, ...rest } = extra
  return within(
    boot({
      cores: 1,
      ...rest,
      remote: {
        servers: broker.url,
        nodes,
        secret: key,
        heartbeatMs: 200,
        joinTimeoutMs: 10_000,
        ...remote,
      },
    }),
    'boot with remote nodes',
    30_000,
  )
}

/** Every event of a runtime from now on, for bounded waits on them. */
export class EventLog {
  readonly all: RuntimeEvent[] = []
  private readonly listener = (ev: RuntimeEvent): void => {
    this.all.push(ev)
  }

  constructor(private readonly rt: Runtime) {
    rt.events.on('event', this.listener)
  }

  of<T extends RuntimeEvent['type']>(type: T): Extract<RuntimeEvent, { type: T }>[] {
    return this.all.filter((e) => e.type === type) as Extract<RuntimeEvent, { type: T }>[]
  }

  /** The first event (logged, or to come) of `type` matching `pred`; bounded. */
  wait<T extends RuntimeEvent['type']>(
    type: T,
    pred: (e: Extract<RuntimeEvent, { type: T }>) => boolean = () => true,
    ms?: number,
  ): Promise<Extract<RuntimeEvent, { type: T }>> {
    return until(() => this.of(type).find(pred), `event ${type}`, ms)
  }

  close(): void {
    this.rt.events.off('event', this.listener)
  }
}

/** Expect `p` to reject with a KernelError of `code`; returns it. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: KernelErrorCode,
  what = `a call expected to fail with ${code}`,
): Promise<KernelError> {
  const outcome = await within(
    p.then(
      (value: unknown) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
    what,
  )
  if (outcome.ok) throw new Error(`expected ${code}, but it resolved with ${String(outcome.value)}`)
  expect(outcome.err).toBeInstanceOf(KernelError)
  expect((outcome.err as KernelError).code).toBe(code)
  return outcome.err as KernelError
}

/** A scratch directory for the files remote domains write. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'mk-remote-'))

  path(name: string): string {
    return join(this.dir, name)
  }

  /** Create `name` empty (a go-file a remote domain waits for). */
  touch(name: string): void {
    writeFileSync(this.path(name), '')
  }

  /** The lines of `name` ([] when it does not exist). */
  lines(name: string): string[] {
    const p = this.path(name)
    if (!existsSync(p)) return []
    return readFileSync(p, 'utf8').split('\n').filter(Boolean)
  }

  /** The JSON in `name`, or undefined while it does not exist. */
  read<T>(name: string): T | undefined {
    const p = this.path(name)
    if (!existsSync(p)) return undefined
    return JSON.parse(readFileSync(p, 'utf8')) as T
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
