// The remote-core test rig itself (test/shared/nats.ts), with a bare NATS client and
// no multikernel code: a real broker on 127.0.0.1 answers request/reply, survives a
// restart on the same port (a reconnecting client carries on), and leaves no process
// behind once stopped; a `multikernel node` child comes up, is joined by a runtime
// and leaves no process when killed. If nats-server is missing these tests fail,
// naming it.
import { randomBytes } from 'node:crypto'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { boot } from 'multikernel'
import { afterAll, describe, expect, it } from 'vitest'
import { within, until } from '../shared/bounded.js'
import { natsServerPath, startBroker, startNode, stopAll } from '../shared/nats.js'

afterAll(stopAll)

const enc = new TextEncoder()
const dec = new TextDecoder()

/** A responder on `subject` that answers "echo:<request>". */
async function responder(url: string, subject: string): Promise<NatsConnection> {
  const nc = await within(
    connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 }),
    'responder connects',
  )
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null) msg.respond(enc.encode(`echo:${dec.decode(msg.data)}`))
    },
  })
  await within(nc.flush(), 'responder subscription reaches the broker')
  return nc
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

describe('test rig: a real nats-server on 127.0.0.1', () => {
  it('finds the nats-server binary', () => {
    expect(natsServerPath()).toMatch(/nats-server$/)
  })

  it('starts a broker on a free loopback port; a client does request/reply', async () => {
    const broker = await startBroker()
    expect(broker.url).toBe(`nats://127.0.0.1:${broker.port}`)
    expect(broker.port).toBeGreaterThan(0)
    const server = await responder(broker.url, 'rig.echo')
    const client = await within(connect({ servers: broker.url }), 'client connects')
    try {
      const reply = await within(
        client.request('rig.echo', enc.encode('hello'), { timeout: 5000 }),
        'request/reply',
      )
      expect(dec.decode(reply.data)).toBe('echo:hello')
    } finally {
      await within(Promise.all([client.close(), server.close()]), 'clients close')
      await broker.stop()
    }
  })

  it('restarts on the same port; a reconnecting client carries on', async () => {
    const broker = await startBroker()
    const port = broker.port
    const firstPid = broker.pid
    const server = await responder(broker.url, 'rig.echo')
    const client = await within(
      connect({ servers: broker.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 }),
      'client connects',
    )
    const events: string[] = []
    void (async () => {
      for await (const s of client.status()) events.push(s.type)
    })()
    try {
      const before = await within(
        client.request('rig.echo', enc.encode('1'), { timeout: 5000 }),
        'request before the restart',
      )
      expect(dec.decode(before.data)).toBe('echo:1')

      await broker.restart()
      expect(broker.port).toBe(port)
      expect(broker.url).toBe(`nats://127.0.0.1:${port}`)
      expect(broker.pid).not.toBe(firstPid)
      expect(alive(firstPid)).toBe(false)

      // Both clients reconnect on their own (the responder resubscribes); retry the
      // request until the responder is back, each try bounded.
      await until(() => events.includes('reconnect'), 'client reconnects')
      const after = await within(
        (async () => {
          for (;;) {
            try {
              return await client.request('rig.echo', enc.encode('2'), { timeout: 1000 })
            } catch {
              // No responder yet (503) or a timeout while it resubscribes.
            }
          }
        })(),
        'request/reply after the restart',
      )
      expect(dec.decode(after.data)).toBe('echo:2')
    } finally {
      await within(Promise.all([client.close(), server.close()]), 'clients close')
      await broker.stop()
    }
  })

  it('stop leaves no process behind', async () => {
    const broker = await startBroker()
    const pid = broker.pid
    expect(alive(pid)).toBe(true)
    await broker.stop()
    expect(alive(pid)).toBe(false)
    // Nothing listens on its port any more.
    await expect(
      within(connect({ servers: broker.url, maxReconnectAttempts: 0, timeout: 1000 }), 'connect'),
    ).rejects.toThrow()
    // A second stop is harmless.
    await broker.stop()
  })
})

describe('test rig: multikernel node children', () => {
  it('a node comes up, a runtime joins it, kill leaves no process', async () => {
    const broker = await startBroker()
    const secret = randomBytes(32).toString('hex')
    const node = startNode({ url: broker.url, name: 'rig1', cores: 1, secret })
    try {
      await node.waitFor(/\bup\b/)
      const rt = await within(
        boot({ cores: 1, remote: { servers: broker.url, nodes: ['rig1'], secret } }),
        'boot joins the node',
      )
      try {
        await node.waitFor('joined')
        expect(rt.cores).toBe(2)
        await within(rt.ping(1), 'ping of the remote core')
      } finally {
        await within(rt.shutdown(), 'runtime shutdown')
      }
      const pid = node.child.pid as number
      expect(alive(pid)).toBe(true)
      await node.kill('SIGKILL')
      expect(alive(pid)).toBe(false)
      // Killed by a signal: no exit code.
      expect(await node.exited).toBe(null)
    } finally {
      await node.kill()
      await broker.stop()
    }
  })

  it('waitFor rejects with the output when the node exits first', async () => {
    // No secret worth the name: the CLI refuses to start and says why.
    const node = startNode({ url: 'nats://127.0.0.1:1', name: 'rig2', cores: 1, secret: 'x' })
    await expect(node.waitFor('joined')).rejects.toThrow(/exited/)
    expect(await within(node.exited, 'the node exits')).not.toBe(0)
    expect(node.output()).toMatch(/MULTIKERNEL_SECRET/)
  })
})
