/**
 * A tiny ring that fills: the send queue (Barrelfish's TX_BUSY) holds requests in
 * order and delivers every one; the receive queue answers each exactly once. Also
 * the spawnd's own TX_BUSY (a tiny reply ring), and a request that can never fit.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { boot, KernelError, type DomainCap, type Runtime } from 'multikernel'
import {
  cleanupBarrier,
  expectCleaned,
  expectHealthy,
  expectQueuesAtRest,
  fixture,
  rejectsWith,
  within,
} from './helpers.js'

let rt: Runtime | undefined

afterEach(async () => {
  if (rt !== undefined) await within(rt.shutdown(), 'shutdown')
  rt = undefined
})

/** 2,000 pings issued in one turn, 1,000 per core; answers recorded in arrival order. */
async function pingFlood(r: Runtime): Promise<void> {
  const arrivals: number[][] = [[], []]
  const answered = new Array<number>(2000).fill(0)
  const pings: Promise<void>[] = []
  for (let i = 0; i < 2000; i++) {
    const core = i % 2
    pings.push(
      r.ping(core).then(() => {
        answered[i]++
        arrivals[core].push(i)
      }),
    )
  }
  // Nothing is published before this turn ends, so the ring filled and the rest
  // waits in the send queue (a 32-byte frame: at most 8 in a 256-byte ring).
  const st = r.stats()
  for (const s of st) {
    expect(s.sendQueue, `core ${s.core}`).toBeGreaterThan(900)
    expect(s.receiveQueue, `core ${s.core}`).toBe(1000)
  }
  await within(Promise.all(pings), '2,000 pings')
  // Each answered once, and per core in the order sent (one FIFO end to end).
  expect(answered.every((n) => n === 1)).toBe(true)
  for (const core of [0, 1]) {
    const sent = Array.from({ length: 1000 }, (_, k) => 2 * k + core)
    expect(arrivals[core]).toEqual(sent)
  }
  await expectQueuesAtRest(r)
}

describe('tiny request ring', () => {
  it('the send queue holds 2,000 pings in order and delivers all of them once', async () => {
    rt = await boot({ cores: 2, ringCapacity: 256 })
    await pingFlood(rt)
    // pingMany's window also rides the send queue.
    await within(rt.pingMany(0, 5000, 64), 'pingMany')
    await within(Promise.all([rt.pingMany(0, 3000), rt.pingMany(1, 3000)]), 'pingMany x2')
    await expectQueuesAtRest(rt)
    await expectHealthy(rt)
  })

  it('mixed spawns, waits, kills and pings through a full ring: nothing lost, nothing twice', async () => {
    rt = await boot({ cores: 2, ringCapacity: 256 })
    const r = rt
    const n = 400
    const spawns: Promise<DomainCap>[] = []
    const pings: Promise<void>[] = []
    for (let i = 0; i < n; i++) {
      const argv = i % 4 === 3 ? ['sleep'] : ['return', String(i % 200)]
      spawns.push(r.spawn(fixture('behave.mjs'), { core: i % 2, argv }))
      pings.push(r.ping(i % 2))
    }
    const queued = r.stats().map((s) => s.sendQueue)
    expect(Math.min(...queued)).toBeGreaterThan(0)

    const caps = await within(Promise.all(spawns), 'spawns')
    expect(new Set(caps.map((c) => c.id)).size).toBe(n)
    // Kill the sleepers all at once (a burst of KILLs through the small ring).
    const kills: Promise<void>[] = []
    for (let i = 3; i < n; i += 4) kills.push(r.kill(caps[i]))
    const results = await within(Promise.all(caps.map((d) => r.wait(d))), 'waits')
    await within(Promise.all([...kills, ...pings]), 'kills and pings')
    for (const [i, res] of results.entries()) {
      if (i % 4 === 3) expect(res, `domain ${i}`).toMatchObject({ exitCode: 9, reason: 'killed' })
      else expect(res, `domain ${i}`).toMatchObject({ exitCode: i % 200, reason: 'exited' })
    }
    await cleanupBarrier(r)
    for (const d of caps) expectCleaned(r.status(d))
    expect(await r.ps(0)).toEqual([])
    expect(await r.ps(1)).toEqual([])
    await expectQueuesAtRest(r)
  })

  it('a request that can never fit the ring is refused, and the core keeps working', async () => {
    // argv within maxArgBytes (2048) but far over a 256-byte ring's largest frame:
    // refused at once, whether the send queue is empty or not, instead of wedging it.
    rt = await boot({ cores: 2, ringCapacity: 256 })
    const r = rt
    const big = { core: 1, argv: ['return', '1', 'x'.repeat(600)] }
    const e1 = await rejectsWith(r.spawn(fixture('behave.mjs'), big), 'FRAME_TOO_LARGE')
    expect(KernelError.is(e1, 'FRAME_TOO_LARGE')).toBe(true)
    const before = Array.from({ length: 50 }, () => r.ping(1))
    const refused = r.spawn(fixture('behave.mjs'), big)
    const after = Array.from({ length: 50 }, () => r.ping(1))
    await rejectsWith(refused, 'FRAME_TOO_LARGE')
    await within(Promise.all([...before, ...after]), 'pings around the refused spawn')
    expect(r.domains()).toEqual([])
    await expectQueuesAtRest(r)
    await expectHealthy(r)
  })
  it('a request that needs the bytes of its own wrap marker still goes', async () => {
    // A frame that does not fit before the ring's end leaves a wrap marker there and
    // waits for room at offset 0; when it is bigger than that offset it needs the
    // marker's own bytes back, so the marker must be published, passed and released.
    // Sweep frame sizes and ring offsets (pings move the tail 32 bytes at a time).
    rt = await boot({ cores: 2, ringCapacity: 256 })
    const r = rt
    const url = fixture('behave.mjs').href
    const bare = JSON.stringify({ url, argv: ['return', '3', ''], env: {} }).length + 24
    for (let shift = 0; shift < 8; shift++) {
      for (let frame = Math.max(bare, 128); frame <= 248; frame += 8) {
        for (let i = 0; i < shift; i++) await within(r.ping(0), 'ping')
        const argv = ['return', '3', 'p'.repeat(frame - bare)]
        const d = await within(r.spawn(url, { core: 0, argv }), `spawn of a ${frame}-byte frame`)
        expect(await within(r.wait(d), 'wait')).toMatchObject({ exitCode: 3 })
      }
    }
    await expectQueuesAtRest(r)
  })
  it('a domain call whose answer can never fit the ring fails with FRAME_TOO_LARGE', async () => {
    rt = await boot({ cores: 2, ringCapacity: 256 })
    const r = rt
    const d = await r.spawn(fixture('big-answer.mjs'), {
      core: 0,
      env: { CHILD: fixture('behave.mjs').href },
    })
    expect(await within(r.wait(d), 'wait')).toMatchObject({ exitCode: 77, reason: 'exited' })
    await expectQueuesAtRest(r)
    await expectHealthy(r)
  })
})

describe('tiny reply ring', () => {
  it("spawnd's outbox keeps replies and exit notices while its reply ring is full", async () => {
    rt = await boot({ cores: 2, ringCapacity: 256, replyRingCapacity: 256 })
    const r = rt
    await pingFlood(r)
    // Exits with error texts (a stack: maybe more than fits; then replaced, never lost).
    const caps = await within(
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          r.spawn(fixture('behave.mjs'), { core: i % 2, argv: ['throw', `e${i}`] }),
        ),
      ),
      'spawns',
    )
    const rs = await within(Promise.all(caps.map((d) => r.wait(d))), 'waits')
    for (const res of rs) expect(res).toMatchObject({ exitCode: 1, reason: 'error' })
    await expectQueuesAtRest(r)
    await expectHealthy(r)
  })

  it('a reply that needs the bytes of its own wrap marker still comes', async () => {
    // The same on the reply ring: EXIT notifications carrying error texts of every
    // size, at every offset; each must arrive (the spawnd's outbox must drain).
    rt = await boot({ cores: 2, replyRingCapacity: 256 })
    const r = rt
    for (let shift = 0; shift < 8; shift++) {
      for (let len = 0; len <= 120; len += 4) {
        for (let i = 0; i < shift; i++) await within(r.ping(1), 'ping')
        const d = await within(
          r.spawn(fixture('behave.mjs'), { core: 1, argv: ['throw', 'm'.repeat(len)] }),
          'spawn',
        )
        expect(await within(r.wait(d), `wait (message of ${len})`)).toMatchObject({
          exitCode: 1,
          reason: 'error',
        })
      }
    }
    await expectQueuesAtRest(r)
  })

  it('a ps table too large for the reply ring is refused as FRAME_TOO_LARGE, not lost', async () => {
    rt = await boot({ cores: 2, replyRingCapacity: 256 })
    const r = rt
    const caps = await Promise.all(
      Array.from({ length: 10 }, () =>
        r.spawn(fixture('behave.mjs'), { core: 0, argv: ['sleep'] }),
      ),
    )
    await rejectsWith(r.ps(0), 'FRAME_TOO_LARGE')
    await within(Promise.all(caps.map((d) => r.kill(d))), 'kills')
    await cleanupBarrier(r)
    expect(await r.ps(0)).toEqual([])
    await expectHealthy(r)
  })
})
