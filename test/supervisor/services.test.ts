// The reincarnation server's services: restart policies, the init-ready handshake,
// MINIX backoff and the OTP intensity limit, heartbeats, down while restarting,
// the RS `service` API, and the OTP shutdown order. Cores are not supervised here
// (superviseCores: false): a loaded box must not turn a slow ping into a core
// restart that these tests did not ask for.
import { readFileSync, writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KILLED_EXIT_CODE, MINIX_BACKOFF, boot, type Runtime, type ServiceInfo } from 'multikernel'
import { Recorder, Scratch, codeOf, configFixture, modes, sleep, until, within } from './helpers.js'

const PERIOD = 50

let rt: Runtime
let rec: Recorder
let scratch: Scratch

beforeEach(async () => {
  rt = await boot({ cores: 2, supervisor: { periodMs: PERIOD, superviseCores: false } })
  rec = new Recorder(rt)
  scratch = new Scratch()
})

afterEach(async () => {
  await rt.shutdown()
  scratch.cleanup()
})

/** The service's state once `pred` holds; bounded. */
function whenService(
  label: string,
  pred: (i: ServiceInfo) => boolean,
  what: string,
): Promise<ServiceInfo> {
  return until(() => {
    const i = rt.services.lookup(label)
    return i !== undefined && pred(i) ? i : undefined
  }, `${label}: ${what}`)
}

describe('restart policies', () => {
  it('transient: a normal exit (code 0) is not restarted', async () => {
    await rt.services.up('t0', modes, { restart: 'transient', argv: ['return', '0'] })
    const i = await whenService('t0', (i) => i.state === 'stopped', 'stopped')
    expect(i).toMatchObject({ restarts: 0, domain: null, policy: 'transient' })
    expect(i.lastExit).toMatchObject({ exitCode: 0, reason: 'exited' })
    // The policy is applied as the incarnation ends: nothing can be scheduled later.
    expect(rec.of('restart-scheduled', (e) => e.label === 't0')).toHaveLength(0)
  })

  it('transient: exit code 2 is restarted', async () => {
    const first = await rt.services.up('t2', modes, {
      restart: 'transient',
      argv: ['return', '2'],
      maxRestarts: 1,
    })
    const r = await rec.waitFor('restarted', (e) => e.label === 't2')
    expect(r.domainId).not.toBe(first.domain?.id)
    expect(r.attempt).toBe(1)
  })

  it('temporary: never restarted, even after a throw', async () => {
    await rt.services.up('tmp', modes, { restart: 'temporary', argv: ['throw', 'once'] })
    const i = await whenService('tmp', (i) => i.state === 'stopped', 'stopped')
    expect(i.restarts).toBe(0)
    expect(i.lastExit).toMatchObject({ exitCode: 1, reason: 'error' })
    expect(rec.of('restart-scheduled', (e) => e.label === 'tmp')).toHaveLength(0)
  })

  it('permanent: restarted even after a normal exit', async () => {
    await rt.services.up('perm', modes, { argv: ['return', '0'], maxRestarts: 1 })
    const r = await rec.waitFor('restarted', (e) => e.label === 'perm')
    expect(r.attempt).toBe(1)
    expect(rec.of('restart-scheduled', (e) => e.label === 'perm')[0].why).toMatch(/exit code 0/)
  })
})

describe('starting and restarting', () => {
  it('ready() within initTimeoutMs: up() resolves running', async () => {
    const i = await within(
      rt.services.up('prompt', modes, { argv: ['ready'], initTimeoutMs: 5000 }),
      'up',
    )
    expect(i.state).toBe('running')
    expect(rec.of('ready', (e) => e.domainId === i.domain?.id)).toHaveLength(1)
  })

  it('never ready within initTimeoutMs: restarted, then gives up (GAVE_UP)', async () => {
    const up = rt.services.up('mute', modes, {
      argv: ['sleep'],
      initTimeoutMs: 150,
      maxRestarts: 2,
      withinMs: 60_000,
    })
    expect(await within(codeOf(up), 'up() to settle')).toBe('GAVE_UP')
    const gaveUp = rec.of('gave-up', (e) => e.label === 'mute')
    expect(gaveUp).toHaveLength(1)
    expect(gaveUp[0].restarts).toBe(2)
    const i = rt.services.lookup('mute')!
    expect(i).toMatchObject({ state: 'failed', restarts: 2, domain: null })
    // Each failed start was killed when its time ran out.
    expect(i.lastExit).toMatchObject({ reason: 'killed' })
    const scheduled = rec.of('restart-scheduled', (e) => e.label === 'mute')
    expect(scheduled).toHaveLength(2)
    for (const s of scheduled) expect(s.why).toMatch(/not ready/)
    // No incarnation ever counted as up.
    expect(rec.of('service-up', (e) => e.label === 'mute')).toHaveLength(0)
  })

  it('crashes on every start: MINIX backoff in periods, then gives up at the limit', async () => {
    const maxRestarts = 4
    // A listener reacting at once to gave-up must find the service already failed.
    const stateAtGaveUp: (string | undefined)[] = []
    rt.events.on('gave-up', () => stateAtGaveUp.push(rt.services.lookup('crashy')?.state))
    await rt.services.up('crashy', modes, {
      argv: ['throw', 'again'],
      maxRestarts,
      withinMs: 60_000,
    })
    const gaveUp = await rec.waitFor('gave-up', (e) => e.label === 'crashy')
    expect(gaveUp.restarts).toBe(maxRestarts)
    const scheduled = rec.of('restart-scheduled', (e) => e.label === 'crashy')
    // Immediate, then 2, 4, 8 periods (MINIX RS).
    expect(scheduled.map((e) => e.delayMs)).toEqual(
      MINIX_BACKOFF.slice(0, maxRestarts).map((p) => p * PERIOD),
    )
    expect(scheduled.map((e) => e.delayMs)).toEqual([0, 2 * PERIOD, 4 * PERIOD, 8 * PERIOD])
    expect(scheduled.map((e) => e.attempt)).toEqual([1, 2, 3, 4])
    expect(rec.of('restarted', (e) => e.label === 'crashy').map((e) => e.attempt)).toEqual([
      1, 2, 3, 4,
    ])
    const i = rt.services.lookup('crashy')!
    expect(i).toMatchObject({ state: 'failed', restarts: maxRestarts, domain: null })
    expect(stateAtGaveUp).toEqual(['failed'])
    // Given up: no further incarnation is started.
    const spawned = rec.of('spawned').length
    await sleep(20 * PERIOD)
    expect(rec.of('spawned')).toHaveLength(spawned)
  })

  it('crashes once, then runs: restarted once, back to running', async () => {
    const marker = scratch.path('crashed-once')
    const first = await rt.services.up('once', modes, { argv: ['crash-once', marker] })
    await rec.waitFor('restarted', (e) => e.label === 'once')
    const i = await whenService('once', (i) => i.state === 'running', 'running again')
    expect(i.restarts).toBe(1)
    expect(i.domain?.id).not.toBe(first.domain?.id)
    expect(i.lastExit).toMatchObject({ exitCode: 1, reason: 'error' })
    expect(readFileSync(marker, 'utf8')).toBe(String(first.domain?.id))
    expect(rec.of('restart-scheduled', (e) => e.label === 'once')).toHaveLength(1)
  })
})

describe('domain heartbeats', () => {
  it('a service that stops beating is judged hung, killed and restarted; a beating one is left alone', async () => {
    // steady: beats every 20 ms and may skip 20 beats of 100 ms (a 2 s margin for a
    // loaded box); silent: 3 beats, then nothing, judged after more than 2 skipped.
    const steady = await rt.services.up('steady', modes, {
      argv: ['beat', '20'],
      heartbeatMs: 100,
      maxSkippedBeats: 20,
    })
    const silent = await rt.services.up('silent', modes, {
      argv: ['beat', '20', '3'],
      heartbeatMs: 100,
      maxSkippedBeats: 2,
    })
    const hung = await rec.waitFor('domain-hung', (e) => e.label === 'silent')
    expect(hung.domainId).toBe(silent.domain?.id)
    expect(hung.skippedBeats).toBeGreaterThan(2)
    await rec.waitFor('killed', (e) => e.domainId === silent.domain?.id)
    const r = await rec.waitFor('restarted', (e) => e.label === 'silent')
    expect(r.domainId).not.toBe(silent.domain?.id)
    expect(rec.of('restart-scheduled', (e) => e.label === 'silent')[0].why).toMatch(/killed/)

    expect(rec.of('domain-hung', (e) => e.label === 'steady')).toHaveLength(0)
    expect(rt.services.lookup('steady')).toMatchObject({
      state: 'running',
      restarts: 0,
      domain: steady.domain,
    })
  })
})

describe('down', () => {
  it('of a service waiting in backoff: resolves, no further restart, lookup undefined', async () => {
    // The second restart waits 10 periods; down comes in between.
    await rt.services.up('flappy', modes, {
      argv: ['throw', 'flap'],
      backoff: [0, 10],
      maxRestarts: 10,
      withinMs: 60_000,
    })
    const second = await rec.waitFor('restart-scheduled', (e) => e.label === 'flappy', 2)
    expect(second.delayMs).toBe(10 * PERIOD)
    expect(rt.services.lookup('flappy')?.state).toBe('restarting')
    const spawned = rec.of('spawned').length
    await within(rt.services.down('flappy'), 'down')
    expect(rt.services.lookup('flappy')).toBeUndefined()
    expect(rt.services.list().map((i) => i.label)).not.toContain('flappy')
    expect(rec.of('service-down', (e) => e.label === 'flappy')).toHaveLength(1)
    // Past the moment the cancelled restart was due: nothing was started.
    await sleep(30 * PERIOD)
    expect(rec.of('spawned')).toHaveLength(spawned)
    expect(rec.of('restarted', (e) => e.label === 'flappy')).toHaveLength(1)
  })
})

describe('down racing restart', () => {
  // A restart that started an incarnation after (or while) down stopped the old one
  // left a running domain nobody supervised or would ever stop.
  const running = (): number[] =>
    rt
      .domains()
      .filter((d) => d.state === 'RUNNING')
      .map((d) => d.id)

  it('down then restart: restart refused, nothing left running', async () => {
    await rt.services.up('r', modes, { argv: ['graceful'] })
    const down = rt.services.down('r')
    const restart = codeOf(rt.services.restart('r'))
    await within(down, 'down')
    expect(await within(restart, 'restart')).toBe('SERVICE_NOTFOUND')
    expect(rt.services.lookup('r')).toBeUndefined()
    await until(() => running().length === 0, 'no domain running')
    expect(rec.of('spawned')).toHaveLength(1)
  })

  it('restart then down: restart refused, nothing left running', async () => {
    await rt.services.up('r', modes, { argv: ['graceful'] })
    const restart = codeOf(rt.services.refresh('r'))
    const down = rt.services.down('r')
    await within(down, 'down')
    expect(await within(restart, 'refresh')).toBe('SERVICE_NOTFOUND')
    expect(rt.services.lookup('r')).toBeUndefined()
    await until(() => running().length === 0, 'no domain running')
    expect(rec.of('spawned')).toHaveLength(1)
  })

  it('two downs at once: both resolve, one service-down', async () => {
    await rt.services.up('r', modes, { argv: ['graceful'] })
    await within(Promise.all([rt.services.down('r'), rt.services.down('r')]), 'downs')
    expect(rec.of('service-down', (e) => e.label === 'r')).toHaveLength(1)
    expect(running()).toEqual([])
  })
})

describe('the services API', () => {
  it('up, lookup, list, restart, down; SERVICE_EXISTS and SERVICE_NOTFOUND', async () => {
    const a = await rt.services.up('a', modes, { argv: ['graceful'] })
    const b = await rt.services.up('b', modes, { argv: ['graceful'], restart: 'transient' })
    expect(a).toMatchObject({ label: 'a', state: 'running', policy: 'permanent', restarts: 0 })
    expect(a.program).toBe(modes.href)
    expect(rt.status(a.domain!).state).toBe('RUNNING')
    expect(rt.services.lookup('b')).toMatchObject({ label: 'b', policy: 'transient' })
    expect(rt.services.list().map((i) => i.label)).toEqual(['a', 'b'])

    expect(await codeOf(rt.services.up('a', modes, { argv: ['graceful'] }))).toBe('SERVICE_EXISTS')
    // The refused duplicate did not disturb the original.
    expect(rt.services.lookup('a')?.domain).toEqual(a.domain)

    const again = await within(rt.services.restart('a'), 'restart')
    expect(again.state).toBe('running')
    expect(again.domain?.id).not.toBe(a.domain?.id)
    // An explicit restart is not a failure: not counted, and graceful.
    expect(again.restarts).toBe(0)
    expect(again.lastExit).toMatchObject({ exitCode: 0, reason: 'exited' })
    expect(rt.services.lookup('a')?.domain).toEqual(again.domain)

    await within(rt.services.down('b'), 'down')
    expect(rt.services.lookup('b')).toBeUndefined()
    // down is graceful: b's domain honoured stopSignal and returned 0.
    expect(rec.of('exited', (e) => e.domainId === b.domain?.id)).toEqual([
      expect.objectContaining({ exitCode: 0, reason: 'exited' }),
    ])
    expect(rec.of('service-down').map((e) => e.label)).toEqual(['b'])
    expect(rt.services.list().map((i) => i.label)).toEqual(['a'])

    for (const p of [
      rt.services.down('nope'),
      rt.services.restart('nope'),
      rt.services.refresh('nope'),
      rt.services.down('b'),
    ]) {
      expect(await codeOf(p)).toBe('SERVICE_NOTFOUND')
    }
    expect(rt.services.lookup('nope')).toBeUndefined()
  })

  it('refresh re-imports the module; restart does not', async () => {
    const config = scratch.path('config')
    const report = scratch.path('report')
    writeFileSync(config, 'v1')
    const read = (): { domainId: number; config: string; starts: number } | undefined => {
      try {
        return JSON.parse(readFileSync(report, 'utf8')) as {
          domainId: number
          config: string
          starts: number
        }
      } catch {
        return undefined
      }
    }
    const reportOf = (i: ServiceInfo) =>
      until(() => {
        const r = read()
        return r?.domainId === i.domain?.id ? r : undefined
      }, `report of domain ${i.domain?.id}`)

    // Pinned to one core: a module instance lives in one worker.
    const opts = { core: 1, argv: [config, report] }
    const first = await rt.services.up('cfg', configFixture, opts)
    expect(await reportOf(first)).toMatchObject({ config: 'v1', starts: 1 })
    writeFileSync(config, 'v2')
    const restarted = await within(rt.services.restart('cfg'), 'restart')
    // Same module instance: the config it read at first start, its counter going on.
    expect(await reportOf(restarted)).toMatchObject({ config: 'v1', starts: 2 })
    const refreshed = await within(rt.services.refresh('cfg'), 'refresh')
    expect(refreshed.domain?.id).not.toBe(restarted.domain?.id)
    // A fresh module instance: it reads the file again and counts from 1.
    expect(await reportOf(refreshed)).toMatchObject({ config: 'v2', starts: 1 })
    expect(refreshed.program).toBe(configFixture.href)
  })
})

describe('graceful shutdown order (OTP)', () => {
  it('services stop in reverse start order; one ignoring stopSignal is killed', async () => {
    const labels = ['first', 'stubborn', 'polite', 'last']
    const ids = new Map<string, number>()
    for (const label of labels) {
      const i = await rt.services.up(label, modes, {
        argv: [label === 'stubborn' ? 'sleep' : 'graceful'],
        stopTimeoutMs: 300,
      })
      ids.set(label, i.domain!.id)
    }
    await within(rt.shutdown(), 'shutdown')
    expect(rec.of('service-down').map((e) => e.label)).toEqual([...labels].reverse())
    expect(rec.of('killed', (e) => e.domainId === ids.get('stubborn'))).toHaveLength(1)
    for (const label of ['first', 'polite', 'last']) {
      const exits = rec.of('exited', (e) => e.domainId === ids.get(label))
      expect(exits).toEqual([expect.objectContaining({ exitCode: 0, reason: 'exited' })])
      expect(rec.of('killed', (e) => e.domainId === ids.get(label))).toHaveLength(0)
    }
    // Stopped, not failed: nothing was restarted on the way down.
    expect(rec.of('restart-scheduled')).toHaveLength(0)
  })

  it("lastExit: 'killed' after stopTimeoutMs when stopSignal is ignored, 'exited' when honoured", async () => {
    await rt.services.up('stubborn', modes, { argv: ['sleep'], stopTimeoutMs: 200 })
    await rt.services.up('polite', modes, { argv: ['graceful'], stopTimeoutMs: 10_000 })
    const s = await within(rt.services.restart('stubborn'), 'restart stubborn')
    expect(s.lastExit).toMatchObject({ reason: 'killed', exitCode: KILLED_EXIT_CODE })
    const p = await within(rt.services.restart('polite'), 'restart polite')
    expect(p.lastExit).toMatchObject({ reason: 'exited', exitCode: 0 })
  })

  it('a stop asked before the domain first reads stopSignal is not lost', async () => {
    // The domain looks at ctx.stopSignal only after 500 ms; the stop comes at once.
    // Regression: the signal was made lazily and a TERM before that was dropped, so a
    // polite service was killed after its timeout.
    await rt.services.up('late', modes, {
      argv: ['graceful'],
      env: { MK_DELAY: '500' },
      stopTimeoutMs: 5000,
    })
    const i = await within(rt.services.restart('late'), 'restart late')
    expect(i.lastExit).toMatchObject({ reason: 'exited', exitCode: 0 })
  })
})
