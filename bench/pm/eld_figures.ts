/**
 * The pm suite's event-loop delay figures: the main thread's delay with 256
 * operations in flight for every contender (trivial domains against piscina tasks,
 * per-call pings against postMessages), with every core and with one, each load's
 * rate recorded beside it.
 */
import { median } from '../lib/stats.js'
import { best, IN_FLIGHT, PISCINA, piscinaText, withPools, type Recorder } from './common.js'
import {
  eventLoopDelay,
  idleLoad,
  piscinaLoad,
  pingLoad,
  postMessageLoad,
  spawnLoad,
  type DelayRun,
} from './eld.js'
import { withPeers, withRuntime } from './measure.js'

export interface EldParams {
  runs: number
  cores: number
  quick: boolean
  say: (line: string) => void
}

export async function eventLoopFigures(rec: Recorder, p: EldParams): Promise<void> {
  const { runs, cores, say } = p
  const n = (full: number, small: number): number => (p.quick ? small : full)
  const add = (...fs: Parameters<Recorder['add']>): void => rec.add(...fs)
  const eldMs = n(2_000, 700)
  const eldWarm = n(500, 200)
  for (const eldCores of cores > 1 ? [cores, 1] : [cores]) {
    rec.group()
    const d: Record<string, DelayRun[]> = {
      spawns: [],
      defaults: [],
      tuned: [],
      pings: [],
      postMessage: [],
      idle: [],
    }
    const coresText = `${eldCores} core${eldCores > 1 ? 's' : ''}`
    for (let r = 1; r <= runs; r++) {
      say(`event-loop delay (${coresText}), run ${r}/${runs}`)
      await rec.repetition(async () => {
        await withRuntime({ cores: eldCores }, async (rt) => {
          d.spawns.push(await eventLoopDelay(eldMs, eldWarm, spawnLoad(rt, IN_FLIGHT)))
          d.pings.push(await eventLoopDelay(eldMs, eldWarm, pingLoad(rt, IN_FLIGHT)))
        })
        await withPools(eldCores, async (pools) => {
          for (const c of PISCINA) {
            d[c].push(await eventLoopDelay(eldMs, eldWarm, piscinaLoad(pools[c], IN_FLIGHT)))
          }
        })
        d.postMessage.push(
          await withPeers('echo', eldCores, (ws) =>
            eventLoopDelay(eldMs, eldWarm, postMessageLoad(ws, IN_FLIGHT)),
          ),
        )
        d.idle.push(await eventLoopDelay(eldMs, 0, idleLoad))
      })
    }
    const m = (rs: DelayRun[], k: 'p50' | 'p99' | 'max' | 'perSecond'): number =>
      median(rs.map((x) => x[k]))
    const group =
      `main-thread event-loop delay, ${IN_FLIGHT} operations in flight for every contender, ` +
      `${coresText} (main + ${eldCores} worker thread${eldCores > 1 ? 's' : ''} on ${cores} cpus)`
    for (const k of ['p99', 'max'] as const) {
      add(
        best({
          name: `event-loop delay ${k}, full spawn load, ${coresText}`,
          group,
          unit: 'ms',
          better: 'lower',
          value: m(d.spawns, k),
          runs: d.spawns.map((x) => x[k]),
          compares:
            `${IN_FLIGHT} trivial domains spawned and waited (reaped) at all times on ` +
            `${coresText}, against ${IN_FLIGHT} trivial piscina tasks in flight on ` +
            `${eldCores} thread${eldCores > 1 ? 's' : ''}; ${piscinaText}; each load's rate ` +
            `is in extra`,
          peers: { 'piscina-defaults': m(d.defaults, k), 'piscina-tuned': m(d.tuned, k) },
          target: k === 'p99' ? { op: '<=', value: 1 } : undefined,
          extra: {
            domainsPerSecond: m(d.spawns, 'perSecond'),
            piscinaDefaultsTasksPerSecond: m(d.defaults, 'perSecond'),
            piscinaTunedTasksPerSecond: m(d.tuned, 'perSecond'),
            idle: m(d.idle, k),
          },
        }),
        {
          name: `event-loop delay ${k}, per-call ping load, ${coresText}`,
          group,
          unit: 'ms',
          better: 'lower',
          value: m(d.pings, k),
          runs: d.pings.map((x) => x[k]),
          compares:
            `${IN_FLIGHT} rt.ping calls in flight over ${coresText}, against ${IN_FLIGHT} ` +
            `postMessages in flight over ${eldCores} echo worker${eldCores > 1 ? 's' : ''}; ` +
            `each load's rate is in extra`,
          peers: { postMessage: m(d.postMessage, k) },
          extra: {
            pingsPerSecond: m(d.pings, 'perSecond'),
            postMessagesPerSecond: m(d.postMessage, 'perSecond'),
            idle: m(d.idle, k),
          },
        },
      )
    }
  }
}
