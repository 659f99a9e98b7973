/**
 * The README's benchmark table, built from full runs' reports (bench/readme.ts
 * writes it into README.md). Each row names what its ratio compares; the lines under
 * the table give the command, date, commit and load of each run.
 */
import type { Figure, ReportFile } from './report.js'
import { human } from './stats.js'

/** The rows of the table: suite, figure name (its start, as in the JSON), what the ratio compares. */
const ROWS: Array<{ suite: string; name: string; label: string; vs: string }> = [
  {
    suite: 'ring',
    name: 'one-way 16 B frames, 64 per publish (reserveMany)',
    label: 'ring, one-way 16 B frames, 64 per publish',
    vs: '64 frames per postMessage, consumers polling',
  },
  {
    suite: 'ring',
    name: 'one-way 16 B frames, 1 per publish',
    label: 'ring, one-way 16 B frames, 1 per publish',
    vs: '1 frame per postMessage, consumers polling',
  },
  {
    suite: 'ring',
    name: 'round trip p50, both sides polling',
    label: 'ring, round trip p50, both sides polling',
    vs: 'polling peers and the bare Atomics limit',
  },
  {
    suite: 'ring',
    name: 'round trip p50, consumer asleep (20 us after it slept)',
    label: 'ring, round trip p50, consumer asleep',
    vs: 'bare Atomics.wait/notify, same rounds (the floor)',
  },
  {
    suite: 'ring',
    name: 'round trip p50, both sides asleep (spin 0)',
    label: 'ring, round trip p50, both sides asleep',
    vs: 'event-driven postMessage',
  },
  {
    suite: 'pm',
    name: 'ping p50, default boot options',
    label: 'pm, ping p50, default boot options (1 core)',
    vs: 'event-driven postMessage and comlink',
  },
  {
    suite: 'pm',
    name: 'ping p50, core hot (spin 100000, hotSpinMicros 100)',
    label: 'pm, ping p50, core hot (1 core)',
    vs: 'polling postMessage and the bare Atomics limit',
  },
  {
    suite: 'pm',
    name: 'rt.ping per call, 256 in flight',
    label: 'pm, rt.ping per call, 256 in flight',
    vs: 'piscina per task, 256 in flight, defaults and tuned',
  },
  {
    suite: 'pm',
    name: 'rt.pingMany (batch API), window 1024 per core',
    label: 'pm, rt.pingMany (batch API)',
    vs: 'no fair peer (one promise per batch)',
  },
  {
    suite: 'pm',
    name: 'domains spawned, exited and waited (reaped), 256 in flight',
    label: 'pm, trivial domains spawned + waited, 256 in flight',
    vs: 'piscina trivial tasks, 256 in flight, defaults and tuned',
  },
  {
    suite: 'pm',
    name: 'spawn + wait p50, 1 in flight',
    label: 'pm, spawn + wait p50, 1 in flight',
    vs: 'piscina one task at a time, defaults and tuned',
  },
  {
    suite: 'pm',
    name: 'main-thread bytes allocated per domain',
    label: 'pm, main-thread bytes allocated per domain',
    vs: 'no peer',
  },
  {
    suite: 'pm',
    name: 'event-loop delay p99, full spawn load, 2 cores',
    label: 'pm, event-loop delay p99, full spawn load, 2 cores',
    vs: 'piscina, 256 tasks in flight',
  },
  {
    suite: 'pm',
    name: 'event-loop delay p99, full spawn load, 1 core',
    label: 'pm, event-loop delay p99, full spawn load, 1 core',
    vs: 'piscina, 256 tasks in flight',
  },
  {
    suite: 'ipc',
    name: 'RPC p50, event-driven, rt.session -> domain',
    label: 'sessions, RPC p50, main thread -> domain, 1 in flight',
    vs: 'event-driven postMessage echo and comlink (main thread as client)',
  },
  {
    suite: 'ipc',
    name: 'RPC pipelined, 256 in flight, rt.session -> domain',
    label: 'sessions, RPC pipelined, main thread -> domain',
    vs: 'comlink over a MessagePort, 256 in flight',
  },
  {
    suite: 'ipc',
    name: 'RPC p50, event-driven, domain -> domain',
    label: 'sessions, RPC p50, domain -> domain, 1 in flight',
    vs: 'event-driven postMessage echo and comlink between two workers',
  },
  {
    suite: 'ipc',
    name: 'RPC pipelined, 256 in flight, domain -> domain',
    label: 'sessions, RPC pipelined, domain -> domain',
    vs: 'comlink between two workers, 256 in flight',
  },
  {
    suite: 'ipc',
    name: 'RPC p50, back to back, warm (2 workers)',
    label: 'session port, RPC p50, back to back (2 workers)',
    vs: 'postMessage with both sides polling',
  },
  {
    suite: 'ipc',
    name: 'small values, 64 per publish',
    label: 'session port, small values streamed, 64 per publish',
    vs: 'postMessage, 64 values per message',
  },
  {
    suite: 'ipc',
    name: '64-byte messages, 64 per publish',
    label: 'session port, 64-byte messages streamed, 64 per publish',
    vs: 'postMessage, 64 messages per message',
  },
  {
    suite: 'ipc',
    name: 'GCs while streaming 64-byte messages: receiving end',
    label: 'session port, GCs receiving 4 M byte messages',
    vs: 'postMessage, same messages',
  },
  {
    suite: 'ipc',
    name: 'bytes allocated per call (client thread)',
    label: 'session port, bytes allocated per call',
    vs: 'postMessage and comlink',
  },
  {
    suite: 'update',
    name: 'call latency p99 during an update',
    label: 'live update, call p99 during an update',
    vs: 'the same calls in steady state',
  },
  {
    suite: 'update',
    name: 'update() to the new incarnation serving',
    label: 'live update, update() to serving',
    vs: 'restart() until a client calls again (sessions dropped)',
  },
  {
    suite: 'pool',
    name: 'trivial: tasks/s, 256 in flight',
    label: 'pool, trivial task, 256 in flight',
    vs: 'piscina defaults and tuned',
  },
  {
    suite: 'pool',
    name: 'json: tasks/s, 256 in flight',
    label: 'pool, 1 KB JSON echo, 256 in flight',
    vs: 'piscina defaults and tuned',
  },
  {
    suite: 'pool',
    name: 'trivial: p50, 1 in flight',
    label: 'pool, trivial task p50, 1 in flight',
    vs: 'piscina defaults and tuned',
  },
  {
    suite: 'server',
    name: '/cpu: requests/s',
    label: 'Fastify + pool, CPU-bound handler',
    vs: 'Fastify + piscina (tuned), and inline',
  },
  {
    suite: 'server',
    name: '/trivial: requests/s',
    label: 'Fastify + pool, trivial handler',
    vs: 'Fastify + piscina (tuned), and inline',
  },
  {
    suite: 'comlink',
    name: 'calls/s, 256 in flight',
    label: 'comlink over the rings, 256 in flight',
    vs: 'comlink over a MessagePort',
  },
  {
    suite: 'comlink',
    name: 'round trip p50, 1 in flight',
    label: 'comlink over the rings, p50, 1 in flight',
    vs: 'comlink over a MessagePort',
  },
  {
    suite: 'remote',
    name: 'ping round trip p50, 1 in flight',
    label: 'remote core ping over NATS, p50, 1 in flight',
    vs: 'bare NATS request/reply between the same two processes (nc.request, and pub/sub at its best)',
  },
  {
    suite: 'remote',
    name: 'pings/s, 256 in flight',
    label: 'remote core pings over NATS, 256 in flight',
    vs: 'bare NATS request/reply loop keeping 256 outstanding (nc.request, and pub/sub)',
  },
  {
    suite: 'remote',
    name: 'session call round trip p50, 1 in flight',
    label: 'session call across machines, p50, 1 in flight',
    vs: 'bare NATS request/reply between the same two processes',
  },
]

function unitText(u: string): string {
  return ` ${u}`
}

function valueText(f: Figure): string {
  return `${human(f.value)}${unitText(f.unit)}`
}

function peersText(f: Figure): string {
  const peers = Object.entries(f.peers ?? {})
  if (peers.length === 0) return '-'
  return peers
    .map(([k, v]) => {
      const r = f.ratio?.[k]
      const star = k === f.headline ? ' (headline)' : ''
      return `${k} ${human(v)}${unitText(f.unit)}${r === undefined ? '' : `: x${human(r)}`}${star}`
    })
    .join('; ')
}

function targetText(f: Figure): string {
  const ts = f.target === undefined ? [] : Array.isArray(f.target) ? f.target : [f.target]
  if (ts.length === 0) return ''
  return ts
    .map((t) => {
      const what =
        t.peer === undefined ? `${t.op} ${human(t.value)}` : `${t.op} ${t.value}x ${t.peer}`
      return `${what}: ${t.met === true ? 'met' : 'missed'}`
    })
    .join('; ')
}

/** The markdown between the markers. */
export function benchTable(files: Record<string, ReportFile | null>): string {
  const out: string[] = [
    '| measurement | multikernel | like-for-like peers, same run (ratio) | compares with | target | load |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of ROWS) {
    const file = files[row.suite]
    const f = file?.results.find((r) => r.name.startsWith(row.name))
    if (f === undefined) continue
    out.push(
      `| ${row.label} | ${valueText(f)} | ${peersText(f)} | ${row.vs} | ${targetText(f)} | ` +
        `${f.loadavg ?? ''} |`,
    )
  }
  out.push('')
  for (const f of Object.values(files)) {
    if (f === null) continue
    out.push(
      `\`${f.command}\` (${f.suite}): commit ${f.commit}, ${f.started} to ${f.date} ` +
        `(${f.seconds} s), node ${f.node}, ${f.cpus} CPUs (${f.cpuModel}), 1-minute load ` +
        `average ${f.loadavg[0]} at the start and ${f.loadavg[1]} at the end` +
        ((f.quiet ?? null) === null || f.quiet === null
          ? '.'
          : `; waited ${f.quiet.waitedSeconds} s for a quiet machine, ` +
            `${f.quiet.startedBusy + f.quiet.ungated} rounds ran busy.`),
    )
    out.push('')
  }
  out.push(
    'Generated by `npm run bench:readme` from `bench/results/*.json`; the load column is the ' +
      "1-minute load average when the figure was measured. Every row's full method is in " +
      '[`bench/RESULTS.md`](bench/RESULTS.md).',
  )
  return out.join('\n')
}
