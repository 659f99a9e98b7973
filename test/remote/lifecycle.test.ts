// Every lifecycle operation on a remote core, through a real nats-server and real
// `multikernel node` child processes: spawn, wait, span, kill, status, ps, ping,
// pingMany, stats, the process tree, services, worker(), a request too large for
// the wire; a node joining late ('any'), two nodes numbered in join order, and a
// node leaving on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KILLED_EXIT_CODE, type Runtime } from 'multikernel'
import { startBroker, stopAll, type Broker, type NodeProcess } from '../shared/nats.js'
import {
  EventLog,
  Scratch,
  bootRemote,
  node,
  program,
  rejectsWith,
  secret,
  sleep,
  until,
  within,
} from './helpers.js'

const KEY = secret()
let broker: Broker
let n1: NodeProcess
let rt: Runtime
let s: Scratch

beforeAll(async () => {
  broker = await startBroker()
  n1 = await node(broker, 'n1', 2, KEY)
  // maxArgBytes far above the broker's 1 MiB payload: the wire, not the argument
  // check, is what refuses the too-large request below.
  rt = await bootRemote(broker, ['n1'], KEY, { maxArgBytes: 4 << 20 })
  s = new Scratch()
})

afterAll(async () => {
  await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  await stopAll()
  s?.remove()
})

const behave = program('behave.mjs')

/**
 * Every core answered a ps, and no request is left unanswered anywhere. The
 * supervisor pings every core each period, so one of its pings may be on its way
 * at any moment: at rest is when nothing is (bounded).
 */
async function expectQueuesAtRest(r: Runtime): Promise<void> {
  for (let core = 0; core < r.cores; core++) await within(r.ps(core), `ps(${core})`)
  await until(
    () => r.stats().every((st) => st.receiveQueue === 0 && st.replies === st.requests),
    'every request answered',
  )
  for (const st of r.stats()) expect(st.strayReplies, `core ${st.core} stray replies`).toBe(0)
}

describe('a runtime with one local core and a node of two', () => {
  it('numbers the remote cores after the local one', async () => {
    await n1.waitFor('node n1 joined runtime')
    expect(rt.cores).toBe(3)
    expect(rt.nodes()).toEqual([{ name: 'n1', cores: [1, 2], joined: true, refused: 0 }])
    expect(rt.coreHealth()).toEqual(['up', 'up', 'up'])
  })

  it('spawn and wait: return, exit and throw each give their exit code and reason', async () => {
    const cases = [
      { argv: ['return', '7'], exitCode: 7, reason: 'exited' },
      { argv: ['exit', '5'], exitCode: 5, reason: 'exited' },
      { argv: ['throw', 'remote trouble'], exitCode: 1, reason: 'error' },
    ]
    for (const c of cases) {
      const d = await within(rt.spawn(behave, { core: 1, argv: c.argv }), `spawn ${c.argv[0]}`)
      expect(rt.status(d)).toMatchObject({ program: behave.href, argv: c.argv })
      const r = await within(rt.wait(d), `wait ${c.argv[0]}`)
      expect(r).toMatchObject({ exitCode: c.exitCode, reason: c.reason })
    }
    // The error's text crossed the wire with it.
    const d = await rt.spawn(behave, { core: 2, argv: ['throw', 'from node n1'] })
    await within(rt.wait(d), 'wait of a throw')
    expect(rt.status(d).error).toMatchObject({ message: 'from node n1' })
    await expectQueuesAtRest(rt)
  })

  it('a request with no core stays local; a path works as well as a file URL', async () => {
    const local = await rt.spawn(behave.pathname, {
      argv: ['return', '3'],
      env: { STARTED: s.path('nocore-started') },
    })
    expect(await within(rt.wait(local), 'local wait')).toMatchObject({ exitCode: 3 })
    expect(s.lines('nocore-started')).toEqual([`${local.id} 0`])
    const remote = await rt.spawn(behave.pathname, { core: 2, argv: ['return', '4'] })
    expect(rt.status(remote).program).toBe(behave.href)
    expect(await within(rt.wait(remote), 'remote wait')).toMatchObject({ exitCode: 4 })
  })

  it('status, ps, span to the other remote core and to the local one, kill: wait says killed', async () => {
    const started = s.path('span-started')
    const d = await within(
      rt.spawn(behave, { core: 1, argv: ['sleep'], env: { STARTED: started } }),
      'spawn sleeper',
    )
    expect(rt.status(d)).toMatchObject({ state: 'RUNNING', cores: [1], numSpawndsRunning: 1 })
    await within(rt.span(d, 2), 'span to core 2')
    await within(rt.span(d, 0), 'span to core 0')
    expect(rt.status(d)).toMatchObject({ state: 'RUNNING', cores: [0, 1, 2], numSpawndsRunning: 3 })
    // main ran on every core it was spanned to, each with its own core number.
    await until(() => s.lines('span-started').length === 3, 'three dispatchers started')
    expect(s.lines('span-started').sort()).toEqual([`${d.id} 0`, `${d.id} 1`, `${d.id} 2`])
    for (const core of [0, 1, 2]) {
      expect(await within(rt.ps(core), `ps(${core})`)).toEqual([
        expect.objectContaining({ domainId: d.id, state: 'running', program: behave.href }),
      ])
    }
    expect(await within(rt.wait(d, { nohang: true }), 'nohang')).toEqual({ status: 'running' })
    await within(rt.kill(d), 'kill')
    const r = await within(rt.wait(d), 'wait after kill')
    expect(r).toMatchObject({ reason: 'killed', exitCode: KILLED_EXIT_CODE })
    await expectQueuesAtRest(rt)
    expect(rt.status(d).state).toBe('CLEANED')
    for (const core of [1, 2]) expect(await rt.ps(core)).toEqual([])
  })

  it('terminate: a remote domain asked to stop ends by itself within its grace', async () => {
    const d = await within(rt.spawn(behave, { core: 2, argv: ['graceful', '17'] }), 'spawn')
    const r = await within(rt.terminate(d, 10_000), 'terminate')
    expect(r).toMatchObject({ exitCode: 17, reason: 'exited' })
  })

  it('ping and pingMany on each remote core', async () => {
    for (const core of [1, 2]) {
      await within(rt.ping(core), `ping(${core})`)
      await within(rt.pingMany(core, 5000, 64), `pingMany(${core})`)
    }
    // Pipelined on both remote cores at once, and the local one beside them.
    await within(
      Promise.all([rt.pingMany(0, 2000), rt.pingMany(1, 2000, 256), rt.pingMany(2, 2000, 256)]),
      'pingMany on every core at once',
    )
    await expectQueuesAtRest(rt)
  })

  it('stats: a remote core names its node and its health; counters add up', async () => {
    await within(rt.ping(1), 'ping(1)')
    const st = rt.stats()
    expect(st.map((x) => x.core)).toEqual([0, 1, 2])
    expect(st[0].node).toBeUndefined()
    for (const core of [1, 2]) {
      expect(st[core]).toMatchObject({ core, node: 'n1', health: 'up', sendQueue: 0 })
      expect(st[core].requests).toBeGreaterThan(0)
    }
    await expectQueuesAtRest(rt)
  })

  it('the process tree: a remote parent spawns a child on the other remote core', async () => {
    const out = s.path('tree.json')
    const go = s.path('tree.go')
    const p = await within(
      rt.spawn(program('parent.mjs'), { core: 1, env: { CHILD: '2', OUT: out, GO: go } }),
      'spawn parent',
    )
    interface Report {
      core: number
      status: { domainId: number; parent: number; cores: number[]; state: string }
      children: { domainId: number }[]
      exit?: { exitCode: number; reason: string }
      after?: unknown[]
    }
    const first = await until(() => s.read<Report>('tree.json'), 'parent reports its child')
    const c = first.status.domainId
    expect(first.core).toBe(1)
    expect(first.status).toMatchObject({ parent: p.id, cores: [2], state: 'RUNNING' })
    expect(first.children.map((x) => x.domainId)).toEqual([c])
    // The runtime's view: the child on core 2 under its parent on core 1.
    expect(rt.status(p)).toMatchObject({ parent: null, children: [c], cores: [1] })
    expect(rt.status(rt.capOf(c))).toMatchObject({ parent: p.id, cores: [2], state: 'RUNNING' })
    const node = rt.tree().find((t) => t.id === p.id)
    expect(node?.children.map((t) => t.id)).toEqual([c])
    expect(await within(rt.ps(2), 'ps(2)')).toEqual([expect.objectContaining({ domainId: c })])

    s.touch('tree.go')
    expect(await within(rt.wait(p), 'parent ends')).toMatchObject({
      exitCode: 21,
      reason: 'exited',
    })
    const last = s.read<Report>('tree.json')!
    expect(last.exit).toMatchObject({ reason: 'killed' })
    expect(last.after).toEqual([])
    await expectQueuesAtRest(rt)
  })

  it('kill with subtree: a remote parent and its child on another remote core', async () => {
    const out = s.path('subtree.json')
    const p = await within(
      rt.spawn(program('parent.mjs'), {
        core: 2,
        env: { CHILD: '1', OUT: out, GO: s.path('subtree.never') },
      }),
      'spawn parent',
    )
    const first = await until(
      () => s.read<{ status: { domainId: number } }>('subtree.json'),
      'parent reports its child',
    )
    const c = rt.capOf(first.status.domainId)
    const childWait = rt.wait(c)
    await within(rt.kill(p, { subtree: true }), 'kill the subtree')
    expect(await within(rt.wait(p), 'parent')).toMatchObject({ reason: 'killed' })
    expect(await within(childWait, 'child')).toMatchObject({ reason: 'killed' })
    await expectQueuesAtRest(rt)
    for (const core of [1, 2]) expect(await rt.ps(core)).toEqual([])
  })

  it('services: a supervised service on a remote core, up and down', async () => {
    const out = s.path('svc.out')
    const info = await within(
      rt.services.up('remote-svc', program('service.mjs'), {
        core: 2,
        env: { OUT: out },
        initTimeoutMs: 10_000,
      }),
      'service up',
    )
    expect(info.state).toBe('running')
    const d = info.domain!
    expect(rt.status(d)).toMatchObject({ cores: [2], ready: true })
    await until(() => s.lines('svc.out').length === 1, 'service wrote its line')
    expect(s.lines('svc.out')).toEqual([`${d.id} 2`])
    // Its domain killed: the service is restarted (permanent), on its core again.
    await within(rt.kill(d), 'kill the service domain')
    const again = await until(() => {
      const i = rt.services.lookup('remote-svc')
      return i?.state === 'running' && i.domain !== null && i.domain.id !== d.id ? i : null
    }, 'service restarted')
    expect(again.restarts).toBe(1)
    const d2 = again.domain!
    expect(rt.status(d2).cores).toEqual([2])
    await until(() => s.lines('svc.out').length === 2, 'restarted service wrote its line')
    expect(s.lines('svc.out')[1]).toBe(`${d2.id} 2`)
    await within(rt.services.down('remote-svc'), 'service down')
    expect(['STOPPED', 'CLEANED']).toContain(rt.status(d2).state)
    expect(rt.services.lookup('remote-svc')).toBeUndefined()
    await expectQueuesAtRest(rt)
  })

  it('worker() of a remote core is INVALID_SPAWND (its worker runs on the node)', () => {
    expect(() => rt.worker(1)).toThrow(expect.objectContaining({ code: 'INVALID_SPAWND' }))
    expect(() => rt.worker(3)).toThrow(expect.objectContaining({ code: 'INVALID_SPAWND' }))
    expect(rt.worker(0).threadId).toBeGreaterThan(0)
  })

  it('a request too large for the wire is FRAME_TOO_LARGE, and nothing is lost after it', async () => {
    const before = rt.domains().length
    const big = 'x'.repeat(2 << 20)
    const err = await rejectsWith(rt.spawn(behave, { core: 1, argv: [big] }), 'FRAME_TOO_LARGE')
    expect(err.message).toMatch(/remote core 1/)
    // Requests after it (and pipelined ones around it) are all answered.
    const pings = rt.pingMany(1, 1000, 64)
    const again = await rejectsWith(
      rt.spawn(behave, { core: 1, argv: ['return', '1'], env: { BIG: big } }),
      'FRAME_TOO_LARGE',
    )
    expect(again.code).toBe('FRAME_TOO_LARGE')
    await within(pings, 'pings around the refused spawns')
    const d = await within(rt.spawn(behave, { core: 1, argv: ['return', '9'] }), 'spawn after')
    expect(await within(rt.wait(d), 'wait after')).toMatchObject({ exitCode: 9 })
    // No entry was made for the refused spawns, and no client waits for a reply.
    expect(rt.domains().length).toBe(before + 1)
    await expectQueuesAtRest(rt)
  })

  it("a remote domain's frame too large for the broker's payload is answered, and the node lives on", async () => {
    // The reply ring of a node's spawnd takes frames up to 1 MiB - 8 bytes; the
    // broker's messages are at most 1 MiB, 32 + 4 of them the batch's own. CALL
    // texts of these lengths land on both sides of that edge.
    const d = await within(
      rt.spawn(program('bigcall.mjs'), {
        core: 1,
        argv: ['1048500', '1048560', '2'],
        env: { OUT: s.path('bigcall.json') },
      }),
      'spawn bigcall',
    )
    const ended = await within(rt.wait(d), 'bigcall ends')
    expect(ended, n1.output()).toMatchObject({ exitCode: 0, reason: 'exited' })
    const results = s.read<string[]>('bigcall.json')!
    // Every call was answered. Up to 1 MiB - 8 bytes of frame the CALL fit the
    // reply ring: below 1 MiB - 36 it crossed the broker and the process manager
    // refused it (the child's SPAWN cannot fit a local ring); above, the node
    // answered it FRAME_TOO_LARGE itself (it used to publish it and die of the
    // client's refusal). Past the ring's edge the spawnd refused it: ARGS_TOO_LARGE.
    const edge = (1048568 - 24 - 1048500) / 2 + 1
    expect(results).toEqual([
      ...Array<string>(edge).fill('FRAME_TOO_LARGE'),
      ...Array<string>(31 - edge).fill('ARGS_TOO_LARGE'),
    ])
    expect(rt.nodes()[0]).toMatchObject({ name: 'n1', joined: true })
    expect(n1.output()).not.toMatch(/left the runtime/)
    await within(rt.ping(1), 'ping(1)')
    await expectQueuesAtRest(rt)
  })

  it('a large request that fits goes through whole', async () => {
    const large = 'y'.repeat(200_000)
    const started = s.path('large-started')
    const d = await within(
      rt.spawn(behave, { core: 2, argv: ['return', '6', large], env: { STARTED: started } }),
      'spawn with a 200 kB argv',
    )
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 6 })
    expect(rt.status(d).argv[2]).toBe(large)
    expect(s.lines('large-started')).toEqual([`${d.id} 2`])
  })
})

describe("'any' nodes: joining late, numbered in join order, leaving on SIGTERM", () => {
  let rt2: Runtime
  let log: EventLog
  const procs = new Map<string, NodeProcess>()

  afterAll(async () => {
    log?.close()
    await within(rt2?.shutdown() ?? Promise.resolve(), 'shutdown of the any runtime')
  })

  it('a node started after boot joins; its cores come after those there', async () => {
    rt2 = await bootRemote(broker, 'any', KEY)
    log = new EventLog(rt2)
    // n1 serves the first runtime: it does not say hello, so it is not joined here.
    expect(rt2.cores).toBe(1)
    expect(rt2.nodes()).toEqual([])

    const late1 = await node(broker, 'late1', 1, KEY)
    procs.set('late1', late1)
    const j1 = await log.wait('node-joined', (e) => e.node === 'late1')
    expect(j1.cores).toEqual([1])
    await late1.waitFor('node late1 joined runtime')
    expect(rt2.cores).toBe(2)
    const d = await within(rt2.spawn(behave, { core: 1, argv: ['return', '11'] }), 'spawn late1')
    expect(await within(rt2.wait(d), 'wait late1')).toMatchObject({ exitCode: 11 })

    const late2 = await node(broker, 'late2', 2, KEY)
    procs.set('late2', late2)
    const j2 = await log.wait('node-joined', (e) => e.node === 'late2')
    expect(j2.cores).toEqual([2, 3])
    expect(rt2.cores).toBe(4)
    expect(rt2.nodes()).toEqual([
      { name: 'late1', cores: [1], joined: true, refused: 0 },
      { name: 'late2', cores: [2, 3], joined: true, refused: 0 },
    ])
    for (const core of [2, 3]) {
      const e = await within(
        rt2.spawn(behave, {
          core,
          argv: ['return', String(core)],
          env: { STARTED: s.path(`late-${core}`) },
        }),
        `spawn on ${core}`,
      )
      expect(await within(rt2.wait(e), `wait on ${core}`)).toMatchObject({ exitCode: core })
      // The domain's ctx.core is the runtime's number of its core, not the node's index.
      expect(s.lines(`late-${core}`)).toEqual([`${e.id} ${core}`])
    }
    // A domain on one node spanned to the other node's core.
    const x = await within(
      rt2.spawn(behave, { core: 1, argv: ['sleep'], env: { STARTED: s.path('across') } }),
      'spawn on late1',
    )
    await within(rt2.span(x, 3), 'span to late2')
    await until(() => s.lines('across').length === 2, 'both dispatchers started')
    expect(s.lines('across').sort()).toEqual([`${x.id} 1`, `${x.id} 3`])
    expect(await within(rt2.ps(3), 'ps(3)')).toEqual([
      expect.objectContaining({ domainId: x.id, state: 'running' }),
    ])
    await within(rt2.kill(x), 'kill across nodes')
    expect(await within(rt2.wait(x), 'wait')).toMatchObject({ reason: 'killed' })
    // The first runtime did not see them.
    expect(rt.nodes().map((n) => n.name)).toEqual(['n1'])
    expect(rt.cores).toBe(3)
  })

  it('a node leaves cleanly on SIGTERM: node-lost, its domains end core-failed, later requests CORE_FAILED', async () => {
    const late2 = rt2.nodes().find((n) => n.name === 'late2')
    expect(late2?.joined).toBe(true)
    const d = await within(rt2.spawn(behave, { core: 3, argv: ['sleep'] }), 'spawn sleeper')
    const waiting = rt2.wait(d)
    const proc = procs.get('late2')
    expect(proc).toBeDefined()
    expect(await within(proc!.kill('SIGTERM'), 'node exits on SIGTERM')).toBe(0)
    expect(proc!.output()).toMatch(/node late2 left the runtime: node stopping/)
    const lost = await log.wait('node-lost', (e) => e.node === 'late2')
    // It said bye: the runtime did not have to wait for its silence.
    expect(lost.why).toMatch(/late2 left/)
    expect(await within(waiting, 'wait of its domain')).toMatchObject({ reason: 'core-failed' })
    for (const core of [2, 3]) await rejectsWith(rt2.ping(core), 'CORE_FAILED', `ping(${core})`)
    await rejectsWith(rt2.spawn(behave, { core: 2, argv: ['return', '0'] }), 'CORE_FAILED')
    expect(rt2.nodes().find((n) => n.name === 'late2')).toMatchObject({ joined: false })
    // The other node and the local core carry on.
    await within(rt2.ping(1), 'ping(1)')
    await within(rt2.ping(0), 'ping(0)')
  })
})

describe('shutdown', () => {
  it('leaves the nodes cleanly: no core fails, the node is free again', async () => {
    const sd = await node(broker, 'sd', 3, KEY)
    const r = await bootRemote(broker, ['sd'], KEY)
    const log = new EventLog(r)
    try {
      const ids = await Promise.all(
        [1, 2, 3].map(async (core) => {
          const d = await within(r.spawn(behave, { core, argv: ['sleep'] }), 'spawn sleeper')
          return d
        }),
      )
      const waits = ids.map((d) => r.wait(d))
      await within(r.shutdown(), 'shutdown')
      for (const w of waits) {
        expect(await within(w, 'wait of a domain at shutdown')).toMatchObject({ reason: 'killed' })
      }
      await sd.waitFor('node sd left the runtime: the runtime left')
      // Its spawnds ending after SHUTDOWN are no fault (their exits used to be
      // reported as core failures when they came before the bye).
      await sleep(300)
      expect(log.of('core-failed')).toEqual([])
      expect(log.of('node-lost').map((e) => e.node)).toEqual(['sd'])
      expect(sd.child.exitCode).toBeNull()
    } finally {
      log.close()
    }
  })
})
