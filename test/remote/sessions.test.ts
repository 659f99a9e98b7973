// Sessions across machines (issue 15, "Sessions across machines"): a session
// between a local and a remote domain, the main thread and a remote server, and two
// remote domains on different nodes, with the same calls as on one host; 100,000
// messages exactly once and in order across nodes; a lost node ends its sessions
// (SESSION_CLOSED, 'core-failed'); a session with a remote end cannot move. A real
// nats-server on 127.0.0.1 and real `multikernel node` processes.
import { connect } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boot, KernelError, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'
import { startBroker, startNode, stopAll, type Broker, type NodeProcess } from '../shared/nats.js'
import { fixture } from '../session/domains.js'

const secret = 'sessions-test-secret-0123456789'
let broker: Broker
let n1: NodeProcess
let n2: NodeProcess
let rt: Runtime

beforeAll(async () => {
  broker = await startBroker()
  n1 = startNode({ url: broker.url, name: 'n1', cores: 1, secret })
  n2 = startNode({ url: broker.url, name: 'n2', cores: 1, secret })
  await Promise.all([n1.waitFor('up'), n2.waitFor('up')])
  rt = await boot({
    cores: 1,
    remote: { servers: broker.url, nodes: ['n1', 'n2'], secret, heartbeatMs: 250 },
  })
}, 60_000)

afterAll(async () => {
  await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  await stopAll()
})

/** The core numbers of node `name`. */
function coreOf(name: string): number {
  const n = rt.nodes().find((x) => x.name === name)
  if (n === undefined || n.cores.length === 0) throw new Error(`node ${name} has no cores`)
  return n.cores[0]
}

/** Open `name` from the main thread once its server serves (bounded). */
async function openServed(name: string, args?: unknown): ReturnType<Runtime['session']> {
  return within(
    (async () => {
      for (;;) {
        try {
          return await rt.session(name, args === undefined ? {} : { args })
        } catch (err) {
          if (!KernelError.is(err, 'SERVICE_DENIED')) throw err
          await new Promise((r) => setTimeout(r, 5))
        }
      }
    })(),
    `open ${name}`,
  )
}

describe('sessions across machines', () => {
  it('the main thread calls a server on a remote core: values, errors, many in flight', async () => {
    const d = await rt.spawn(fixture('kv_server.mjs'), { core: coreOf('n1'), argv: ['kv-a'] })
    const s = await openServed('kv-a')
    expect(await within(s.call('echo', 1, 'two', { three: [3] }), 'echo')).toEqual([
      1,
      'two',
      { three: [3] },
    ])
    expect(await within(s.call('set', 'k', new Uint8Array([1, 2, 3])), 'set')).toBe(true)
    expect(await within(s.call('get', 'k'), 'get')).toEqual(new Uint8Array([1, 2, 3]))
    const err = await within(
      s.call('fail', 'no').catch((e: unknown) => e),
      'a server throw',
    )
    expect(KernelError.is(err, 'CALL_FAILED')).toBe(true)
    expect(((err as KernelError).cause as Error).name).toBe('RangeError')
    const many = await within(
      Promise.all(Array.from({ length: 500 }, (_, i) => s.call('echo', i))),
      '500 calls in flight',
    )
    expect(many.map((x) => (x as number[])[0])).toEqual(Array.from({ length: 500 }, (_, i) => i))
    await within(s.close(), 'close')
    await rt.kill(d)
  })

  it('a remote domain calls a service the main thread serves', async () => {
    let opened = 0
    rt.serve('adder', {
      open() {
        opened++
        return { add: (a: number, b: number) => a + b }
      },
    })
    try {
      const d = await rt.spawn(new URL('./fixtures/adder_client.mjs', import.meta.url), {
        core: coreOf('n2'),
        argv: ['adder', '200'],
      })
      expect(await within(rt.wait(d), 'the client ends')).toMatchObject({ exitCode: 0 })
      expect(opened).toBe(1)
    } finally {
      rt.unserve('adder')
    }
  })

  it('a stranger on the broker cannot replay, alter or forge session traffic', async () => {
    const d = await rt.spawn(fixture('kv_server.mjs'), { core: coreOf('n1'), argv: ['kv-s'] })
    const s = await openServed('kv-s')
    const stranger = await within(connect({ servers: broker.url }), 'stranger connects')
    try {
      const seen: { subject: string; data: Uint8Array }[] = []
      stranger.subscribe('multikernel.sess.>', {
        callback: (_e, m) => {
          seen.push({ subject: m.subject, data: new Uint8Array(m.data) })
        },
      })
      await within(stranger.flush(), 'stranger subscribed')
      expect(await within(s.call('set', 'k', 1), 'set 1')).toBe(true)
      const first = seen.length
      expect(await within(s.call('set', 'k', 2), 'set 2')).toBe(true)
      // The batches that carried "set k 1" to the server, replayed, altered, and garbage.
      const toServer = seen.slice(0, first).filter((m) => m.subject.endsWith('.server'))
      expect(toServer.length).toBeGreaterThan(0)
      for (const m of toServer) {
        stranger.publish(m.subject, m.data)
        const altered = new Uint8Array(m.data)
        altered[altered.length - 1] ^= 1
        stranger.publish(m.subject, altered)
        stranger.publish(m.subject, new Uint8Array(64).fill(7))
      }
      for (const m of seen) stranger.publish(m.subject, m.data)
      await within(stranger.flush(), 'stranger published')
      // In order behind the stranger's traffic: nothing of it was taken.
      expect(await within(s.call('get', 'k'), 'get')).toBe(2)
      expect(await within(s.call('echo', 'still'), 'echo')).toEqual(['still'])
    } finally {
      await stranger.close()
      await within(s.close(), 'close')
      await rt.kill(d)
    }
  })

  it('100,000 messages from a local domain to a remote one: exactly once, in order', async () => {
    const sink = await rt.spawn(fixture('firehose.mjs'), { core: coreOf('n1'), argv: ['sink'] })
    const verdict = await runSource(0)
    expect(verdict).toMatchObject({ exitCode: 0 })
    await rt.kill(sink)
  }, 120_000)

  it('100,000 messages between two remote domains on different nodes: exactly once, in order', async () => {
    const sink = await rt.spawn(fixture('firehose.mjs'), { core: coreOf('n2'), argv: ['sink'] })
    const frames = (): number => rt.stats().reduce((n, c) => n + c.requests + c.replies, 0)
    const before = frames()
    const verdict = await runSource(coreOf('n1'))
    expect(verdict).toMatchObject({ exitCode: 0 })
    // Node to node: the process manager's links carried the spawns, the open and
    // the verdict's end, not the 100,000 messages.
    expect(frames() - before).toBeLessThan(1000)
    await rt.kill(sink)
  }, 120_000)

  it('a node killed mid-session ends its sessions: calls reject SESSION_CLOSED, closed says core-failed', async () => {
    // A runtime of its own on the same broker, so the other tests keep their nodes.
    const n3 = startNode({ url: broker.url, name: 'n3', cores: 1, secret })
    await n3.waitFor('up')
    const rt2 = await boot({
      cores: 1,
      remote: { servers: broker.url, nodes: ['n3'], secret, heartbeatMs: 100 },
      supervisor: { superviseCores: false },
    })
    try {
      const core = rt2.nodes()[0].cores[0]
      await rt2.spawn(fixture('kv_server.mjs'), { core, argv: ['kv-c'] })
      let s
      for (;;) {
        try {
          s = await within(rt2.session('kv-c'), 'open kv-c')
          break
        } catch (err) {
          if (!KernelError.is(err, 'SERVICE_DENIED')) throw err
          await new Promise((r) => setTimeout(r, 5))
        }
      }
      expect(await within(s.call('echo', 1), 'echo')).toEqual([1])
      const pending = s.call('slow', 60_000, 'never').catch((e: unknown) => e)
      await n3.kill('SIGKILL')
      const err = await within(pending, 'a call in flight when the node died')
      expect(KernelError.is(err, 'SESSION_CLOSED')).toBe(true)
      expect(await within(s.closed, 'closed')).toBe('core-failed')
      const later = await within(
        s.call('echo', 2).catch((e: unknown) => e),
        'a call after',
      )
      expect(KernelError.is(later, 'SESSION_CLOSED')).toBe(true)
    } finally {
      await within(rt2.shutdown(), 'shutdown rt2')
    }
  }, 60_000)
})

/**
 * Spawn the firehose source on `core` (100,000 messages to 'sink'), retrying until
 * the sink serves; the source's exit code is the sink's verdict.
 */
async function runSource(core: number): Promise<unknown> {
  for (let i = 0; ; i++) {
    const src = await rt.spawn(fixture('firehose.mjs'), {
      core,
      argv: ['source', '100000', '11'],
    })
    const r = await within(rt.wait(src), 'source ends', 110_000)
    if (r.status !== 'running' && r.exitCode === 0) return r
    if (i > 100 || !JSON.stringify(r).includes('SERVICE_DENIED')) return r
    await new Promise((res) => setTimeout(res, 20))
  }
}
