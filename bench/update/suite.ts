/**
 * `npm run bench -- update`: the pause a live update causes (issue 14). A client
 * on the main thread calls a counter service one call at a time, all along:
 *
 *  - call latency in steady state, and for the calls made while an update runs
 *    (p50, p99, max): what a client sees of an update;
 *  - the time from rt.services.update() to the new incarnation serving, beside a
 *    plain rt.services.restart() until a client can call again (restart drops the
 *    sessions: the client must open a new one, which is counted).
 */
import { loadavg } from 'node:os'
import { boot, type Session } from '../../src/index.js'
import { finishFigure, stamp, type Figure, type SuiteReport } from '../lib/report.js'
import { median, percentileSorted, sig } from '../lib/stats.js'
import type { SuiteContext } from '../lib/suite.js'

const program = (v: string | number): URL =>
  new URL(`../../../examples/counter.mjs?v=${v}`, import.meta.url)

function summary(ms: number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b)
  return {
    p50: percentileSorted(s, 50) * 1000,
    p99: percentileSorted(s, 99) * 1000,
    max: s[s.length - 1] * 1000,
  }
}

async function openRetrying(rt: Awaited<ReturnType<typeof boot>>): Promise<Session> {
  for (let i = 0; ; i++) {
    try {
      return await rt.session('counter')
    } catch (err) {
      if (i > 10_000) throw err
      await new Promise((r) => setImmediate(r))
    }
  }
}

export async function runUpdateSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const start = loadavg()[0]
  const updates = ctx.quick ? 5 : 30
  const steadyMs = ctx.quick ? 300 : 2000
  const rt = await boot({ cores: 2 })
  const figures: Figure[] = []
  try {
    await rt.services.up('counter', program(0), { initTimeoutMs: 5000 })
    let s = await rt.session('counter')
    // One call at a time, its latency filed under what was going on meanwhile.
    let phase = 'idle' as 'steady' | 'update' | 'idle'
    const steady: number[] = []
    const during: number[] = []
    let running = true
    const client = (async () => {
      while (running) {
        const t = performance.now()
        await s.call('inc', 1)
        const ms = performance.now() - t
        if (phase === 'steady') steady.push(ms)
        else if (phase === 'update') during.push(ms)
      }
    })()
    ctx.progress('update: steady state')
    await new Promise((r) => setTimeout(r, 100))
    phase = 'steady'
    await new Promise((r) => setTimeout(r, steadyMs))
    const updateMs: number[] = []
    for (let i = 1; i <= updates; i++) {
      await ctx.quiet?.wait()
      phase = 'update'
      const t = performance.now()
      await rt.services.update('counter', program(i))
      updateMs.push(performance.now() - t)
      phase = 'idle'
      // A few calls between updates, so each update starts from a warm client.
      await new Promise((r) => setTimeout(r, 20))
    }
    ctx.progress('update: restarts')
    running = false
    await client
    const restartMs: number[] = []
    for (let i = 0; i < updates; i++) {
      await ctx.quiet?.wait()
      const t = performance.now()
      await rt.services.restart('counter')
      s = await openRetrying(rt)
      await s.call('inc', 1)
      restartMs.push(performance.now() - t)
    }
    const st = summary(steady)
    const du = summary(during)
    figures.push(
      finishFigure(
        stamp({
          name: 'call latency p99 during an update vs steady state',
          group: 'live update',
          unit: 'us',
          better: 'lower',
          value: du.p99,
          peers: { 'steady state': st.p99 },
          samples: during.length,
          compares:
            'one call in flight from the main thread to a domain; the same client, the same calls, with and without an update running',
          extra: {
            p50: du.p50,
            max: du.max,
            steadyP50: st.p50,
            steadyMax: st.max,
            steadyCalls: steady.length,
          },
        }),
      ),
    )
    const u = median(updateMs)
    figures.push(
      finishFigure(
        stamp({
          name: 'update() to the new incarnation serving, vs restart() until a client calls again',
          group: 'live update',
          unit: 'ms',
          better: 'lower',
          value: u,
          runs: updateMs,
          peers: { restart: median(restartMs) },
          compares:
            'medians of the same count; update keeps the sessions, restart drops them (its time includes the client opening a new session)',
          extra: { updateMax: Math.max(...updateMs), restartMax: Math.max(...restartMs) },
        }),
      ),
    )
  } finally {
    await rt.shutdown()
  }
  return {
    figures,
    notes: [
      `${updates} updates and ${updates} restarts of examples/counter.mjs on 2 cores; the client calls one at a time all along`,
    ],
    runs: updates,
    loadavgStart: sig(start, 3),
  }
}
