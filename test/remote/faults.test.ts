// Faults of remote cores, with a real nats-server and real `multikernel node`
// children: a node killed with SIGKILL mid-run (its domains end core-failed, what
// was queued answers CORE_FAILED, nothing hangs), the same node started again and
// rejoined under the supervisor, a node that comes back with another core count
// (refused), and the broker restarted mid-run (in-flight work failed clearly, then
// everyone reconnects and the node rejoins).
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'multikernel'
import { startBroker, startNode, stopAll, type Broker, type NodeProcess } from '../shared/nats.js'
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
const behave = program('behave.mjs')
let broker: Broker
let s: Scratch

// Restarts paced quickly and never given up on within a test: each failed rejoin
// (no node there yet) is another failure of the core. The period stays the
// default: a core with a ping out and silent for two periods is judged hung, and
// a round trip through the broker on a loaded 2-CPU box must not look like that.
const supervisor = {
  periodMs: 500,
  coreRestart: { backoff: [0, 1], maxRestarts: 1000, withinMs: 60_000 },
}

beforeAll(async () => {
  broker = await startBroker()
  s = new Scratch()
})

afterAll(async () => {
  await stopAll()
  s?.remove()
})

/** A domain on `core` that runs until killed, reporting "<id> <core>" to a file once it runs. */
async function sleeper(rt: Runtime, core: number, file: string): Promise<number> {
  const d = await within(
    rt.spawn(behave, { core, argv: ['sleep'], env: { STARTED: s.path(file) } }),
    `spawn a sleeper on ${core}`,
  )
  await until(() => s.lines(file).length > 0, `sleeper on ${core} runs`)
  return d.id
}

describe('a node killed with SIGKILL mid-run, then started again', () => {
  let rt: Runtime
  let log: EventLog
  let k1: NodeProcess

  beforeAll(async () => {
    k1 = await node(broker, 'k1', 2, KEY)
    rt = await bootRemote(broker, ['k1'], KEY, { supervisor, remote: { joinTimeoutMs: 3000 } })
    log = new EventLog(rt)
  })

  afterAll(async () => {
    log?.close()
    await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  })

  it('its domains end core-failed, queued requests answer CORE_FAILED, nothing hangs', async () => {
    const ids = [await sleeper(rt, 1, 'k-a'), await sleeper(rt, 2, 'k-b')]
    // One more on the local core, spanned to a remote one: it ends with the node too.
    const mixed = await sleeper(rt, 0, 'k-mixed')
    await within(rt.span(rt.capOf(mixed), 2), 'span to core 2')
    ids.push(mixed)
    const waits = ids.map((id) => rt.wait(rt.capOf(id)))
    // Pipelined pings in flight on both cores when the node dies.
    // (Judged at once, so a rejection is never unhandled while the test awaits.)
    const flights = [rt.pingMany(1, 1e9, 64), rt.pingMany(2, 1e9, 64)].map((p) =>
      rejectsWith(p, 'CORE_FAILED', 'pings in flight'),
    )
    await sleep(50)
    await within(k1.kill('SIGKILL'), 'node killed')
    // Requests sent after the node died: queued until its silence is noticed (or
    // refused at once if it already was): CORE_FAILED either way, never a hang.
    const later = [rt.ping(1), rt.ps(2), rt.spawn(behave, { core: 1, argv: ['return', '0'] })].map(
      (p) => rejectsWith(p, 'CORE_FAILED', 'a request after the node died'),
    )
    await Promise.all([...flights, ...later])
    for (const w of waits) {
      expect(await within(w, 'wait of a domain on the dead node')).toMatchObject({
        reason: 'core-failed',
      })
    }
    const lost = await log.wait('node-lost', (e) => e.node === 'k1')
    expect(lost.why).toMatch(/k1 fell silent/)
    await log.wait('core-failed', (e) => e.core === 1)
    await log.wait('core-failed', (e) => e.core === 2)
    expect(rt.nodes()).toEqual([{ name: 'k1', cores: [1, 2], joined: false, refused: 0 }])
    expect(rt.coreHealth().slice(1)).not.toContain('up')
    // Nothing waits on the dead cores any more; the local core serves on.
    for (const st of rt.stats().slice(1)) expect(st.receiveQueue).toBe(0)
    // The mixed domain's dispatcher on the local core was stopped and cleaned.
    expect(rt.status(rt.capOf(mixed)).reason).toBe('core-failed')
    await within(
      (async () => {
        while ((await rt.ps(0)).length > 0) await sleep(10)
      })(),
      'the local dispatcher goes',
    )
    const d = await within(rt.spawn(behave, { argv: ['return', '2'] }), 'local spawn')
    expect(await within(rt.wait(d), 'local wait')).toMatchObject({ exitCode: 2 })
  })

  it('a fresh node of the same name rejoins under the supervisor: the same core numbers, work resumes', async () => {
    // The supervisor keeps trying (each try waits for a hello that does not come).
    await log.wait('restart-scheduled', (e) => e.label === 'core:1')
    const restartedBefore = log.of('core-restarted').length
    k1 = await node(broker, 'k1', 2, KEY)
    await k1.waitFor('node k1 joined runtime')
    await log.wait('core-restarted', (e) => e.core === 1)
    await log.wait('core-restarted', (e) => e.core === 2)
    expect(log.of('core-restarted').length - restartedBefore).toBe(2)
    await log.wait('node-joined', (e) => e.node === 'k1')
    expect(log.of('node-joined').find((e) => e.node === 'k1')?.cores).toEqual([1, 2])
    expect(rt.cores).toBe(3)
    expect(rt.nodes()).toEqual([{ name: 'k1', cores: [1, 2], joined: true, refused: 0 }])
    expect(rt.coreHealth()).toEqual(['up', 'up', 'up'])
    for (const core of [1, 2]) {
      await within(rt.ping(core), `ping(${core})`)
      const d = await within(
        rt.spawn(behave, {
          core,
          argv: ['return', String(40 + core)],
          env: { STARTED: s.path(`k-again-${core}`) },
        }),
        `spawn on ${core} after the rejoin`,
      )
      expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 40 + core })
      expect(s.lines(`k-again-${core}`)).toEqual([`${d.id} ${core}`])
    }
    // The fresh spawnds hold nothing of the old ones.
    expect(await within(rt.ps(1), 'ps(1)')).toEqual([])
  })

  it('a node that comes back with another core count is refused: its cores stay failed', async () => {
    await within(k1.kill('SIGKILL'), 'node killed again')
    await log.wait('node-lost', (e) => e.node === 'k1' && log.of('node-lost').length === 2)
    const scheduled = log.of('restart-scheduled').length
    const restarted = log.of('core-restarted').length
    const k3 = await node(broker, 'k1', 3, KEY)
    // The runtime takes its hello and joins it, sees three cores where it numbered
    // two, and says bye at once: the node is free again (and hellos again).
    await k3.waitFor('node k1 joined runtime')
    await k3.waitFor('node k1 left the runtime: the runtime left')
    // More restarts are tried and each fails; none brings a core back.
    await until(
      () => log.of('restart-scheduled').length >= scheduled + 2,
      'restarts go on being tried',
    )
    expect(log.of('core-restarted').length).toBe(restarted)
    expect(rt.coreHealth().slice(1)).toEqual(['failed', 'failed'])
    expect(rt.nodes()).toEqual([{ name: 'k1', cores: [1, 2], joined: false, refused: 0 }])
    expect(rt.cores).toBe(3)
    await rejectsWith(rt.ping(1), 'CORE_FAILED')
    await within(k3.kill('SIGTERM'), 'the three-core node stops')

    // The right node again: it rejoins.
    k1 = await node(broker, 'k1', 2, KEY)
    await until(() => log.of('core-restarted').length >= restarted + 2, 'cores restarted')
    expect(rt.coreHealth()).toEqual(['up', 'up', 'up'])
    await within(rt.ping(2), 'ping(2)')
  })
})

describe('a remote spawnd that hangs or dies, its node still joined', () => {
  let rt: Runtime
  let log: EventLog
  let h1: NodeProcess

  beforeAll(async () => {
    h1 = await node(broker, 'h1', 2, KEY)
    rt = await bootRemote(broker, ['h1'], KEY, { supervisor, remote: { joinTimeoutMs: 3000 } })
    log = new EventLog(rt)
  })

  afterAll(async () => {
    log?.close()
    await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  })

  for (const [mode, why] of [
    ['spin', /hung/],
    ['process-exit', /node h1: worker exited with code 3/],
  ] as const) {
    it(`${mode}: that core alone is failed and restarted on the node; the other runs on`, async () => {
      const other = await sleeper(rt, 1, `h-other-${mode}`)
      const d = await within(
        rt.spawn(behave, { core: 2, argv: [mode, '3'] }),
        `spawn ${mode} on core 2`,
      )
      const failed = await log.wait('core-failed', (e) => e.core === 2 && why.test(e.why))
      expect(await within(rt.wait(d), 'wait')).toMatchObject({ reason: 'core-failed' })
      await log.wait('core-restarted', (e) => e.core === 2 && e.time >= failed.time)
      // The node stayed joined: one spawnd was restarted, not the link.
      expect(log.of('node-lost')).toEqual([])
      expect(h1.output().match(/joined runtime/g)).toHaveLength(1)
      expect(rt.nodes()).toEqual([{ name: 'h1', cores: [1, 2], joined: true, refused: 0 }])
      expect(rt.coreHealth()).toEqual(['up', 'up', 'up'])
      await within(rt.ping(2), 'ping(2)')
      const e = await within(
        rt.spawn(behave, {
          core: 2,
          argv: ['return', '5'],
          env: { STARTED: s.path(`h-${mode}`) },
        }),
        'spawn on the restarted core',
      )
      expect(await within(rt.wait(e), 'wait')).toMatchObject({ exitCode: 5 })
      expect(s.lines(`h-${mode}`)).toEqual([`${e.id} 2`])
      // The domain on the other core never noticed.
      expect(rt.status(rt.capOf(other)).state).toBe('RUNNING')
      await within(rt.kill(rt.capOf(other)), 'kill the other')
    })
  }
})

describe('a node whose spawnds are slow to boot', () => {
  it('is not judged hung before they answered: work sent at once waits for them', async () => {
    const slow = startNode({
      url: broker.url,
      name: 'slow',
      cores: 2,
      secret: KEY,
      env: {
        NODE_OPTIONS: `--import=${program('slow-boot.mjs').href}`,
        SLOW_BOOT_MS: '1500',
      },
    })
    await slow.waitFor('node slow up')
    // A period far shorter than the boot: two of them silent with a ping out is
    // "hung" for a core that has answered before.
    const rt = await bootRemote(broker, ['slow'], KEY, { supervisor: { periodMs: 100 } })
    const log = new EventLog(rt)
    try {
      const d = await within(
        rt.spawn(behave, { core: 2, argv: ['return', '12'] }),
        'spawn on a booting core',
      )
      expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 12, reason: 'exited' })
      await within(rt.ping(1), 'ping(1)')
      // A few more periods with both cores up and answering.
      await sleep(500)
      expect(log.of('core-failed')).toEqual([])
      expect(log.of('core-hung')).toEqual([])
      expect(rt.coreHealth()).toEqual(['up', 'up', 'up'])
    } finally {
      log.close()
      await within(rt.shutdown(), 'shutdown')
      await within(slow.kill('SIGTERM'), 'slow node stops')
    }
  })
})

describe('a runtime killed with SIGKILL', () => {
  it('its node notices the silence, ends its spawnds and is free for another runtime', async () => {
    const r1 = await node(broker, 'r1', 1, KEY)
    const child = spawn(
      process.execPath,
      [program('runtime-child.mjs').pathname, broker.url, 'r1'],
      {
        env: { ...process.env, MULTIKERNEL_SECRET: KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (out += b.toString()))
    const gone = new Promise((resolve) => child.once('exit', resolve))
    try {
      await until(() => out.includes('runtime up'), 'the child runtime is up')
      await r1.waitFor('node r1 joined runtime')
      child.kill('SIGKILL')
      await within(gone, 'the child runtime exits')
      await r1.waitFor('node r1 left the runtime: the runtime fell silent')
      // Free again: another runtime joins it, and finds fresh spawnds (the domain
      // the dead runtime left there went with the old ones).
      const rt = await bootRemote(broker, ['r1'], KEY)
      try {
        expect(rt.nodes()).toEqual([{ name: 'r1', cores: [1], joined: true, refused: 0 }])
        expect(await within(rt.ps(1), 'ps(1)')).toEqual([])
        const d = await within(rt.spawn(behave, { core: 1, argv: ['return', '13'] }), 'spawn')
        expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 13 })
      } finally {
        await within(rt.shutdown(), 'shutdown')
      }
    } finally {
      child.kill('SIGKILL')
      await within(r1.kill('SIGTERM'), 'r1 stops')
    }
  })
})

describe('the broker restarted mid-run', () => {
  let rt: Runtime
  let log: EventLog
  let b1: NodeProcess

  beforeAll(async () => {
    b1 = await node(broker, 'b1', 1, KEY)
    rt = await bootRemote(broker, ['b1'], KEY, { supervisor, remote: { joinTimeoutMs: 3000 } })
    log = new EventLog(rt)
  })

  afterAll(async () => {
    log?.close()
    await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  })

  it('in-flight work fails CORE_FAILED; runtime and node reconnect, the node rejoins, work resumes', async () => {
    const id = await sleeper(rt, 1, 'b-a')
    const wait = rt.wait(rt.capOf(id))
    const flight = rejectsWith(rt.pingMany(1, 1e9, 64), 'CORE_FAILED', 'pings in flight')
    await sleep(50)
    await within(broker.restart(), 'broker restart')
    await flight
    expect(await within(wait, 'wait of the domain')).toMatchObject({ reason: 'core-failed' })
    const lost = await log.wait('node-lost', (e) => e.node === 'b1')
    expect(lost.why).toMatch(/broker/)
    // Both ends come back by themselves; the supervisor's restart rejoins the node.
    await b1.waitFor('node b1 reconnected')
    await log.wait('core-restarted', (e) => e.core === 1)
    await until(() => rt.nodes()[0]?.joined, 'b1 joined again')
    expect(rt.nodes()).toEqual([{ name: 'b1', cores: [1], joined: true, refused: 0 }])
    await within(rt.ping(1), 'ping(1) after the broker restart')
    await within(rt.pingMany(1, 2000, 64), 'pingMany(1) after the broker restart')
    const d = await within(
      rt.spawn(behave, { core: 1, argv: ['return', '8'] }),
      'spawn after the broker restart',
    )
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 8 })
    expect(b1.output()).toMatch(/node b1 left the runtime: broker connection lost/)
  })
})
