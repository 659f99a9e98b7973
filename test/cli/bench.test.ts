// The benchmark harness (`npm run bench`, dist/bench/main.js) in quick mode: it runs
// from a clone, its JSON has the documented shape, quick figures are labelled "quick,
// not comparable" in the JSON, the tables and the HTML, every ratio says what it
// compares, and every figure carries the load it was measured under.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { ReportFile } from '../../dist/bench/lib/report.js'
import { benchTable } from '../../dist/bench/lib/table.js'
import { ROOT, runScript, type CliResult } from './helpers.js'

const BENCH = fileURLToPath(new URL('../../dist/bench/main.js', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'mk-bench-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function runBench(args: string[], timeoutMs: number): Promise<CliResult> {
  return runScript(BENCH, args, timeoutMs)
}

function checkSuite(f: ReportFile, name: string): void {
  expect(f.suite).toBe(name)
  expect(f.quick).toBe(true)
  expect(f.comparable).toBe(false)
  expect(f.label).toBe('quick, not comparable')
  expect(f.command).toContain('--quick')
  expect(typeof f.commit).toBe('string')
  expect(typeof f.node).toBe('string')
  expect(f.loadavg).toHaveLength(2)
  expect(f.results.length).toBeGreaterThan(0)
  for (const r of f.results) {
    expect(typeof r.name).toBe('string')
    expect(typeof r.unit).toBe('string')
    expect(Number.isFinite(r.value)).toBe(true)
    expect(typeof r.loadavg).toBe('number')
    for (const v of Object.values(r.peers ?? {})) expect(typeof v).toBe('number')
    // A ratio always says what it compares.
    if (Object.keys(r.ratio ?? {}).length > 0) expect(r.compares, r.name).toBeTruthy()
    if (r.headline !== undefined) expect(r.ratio?.[r.headline], r.name).toBeDefined()
  }
  // Every suite measures its peers in the same run: at least one figure has ratios.
  expect(f.results.some((r) => Object.keys(r.ratio ?? {}).length > 0)).toBe(true)
}

describe('npm run bench (dist/bench/main.js)', () => {
  it('pm --quick: JSON of the documented shape, labelled, and an HTML report', async () => {
    const html = join(tmp, 'pm.html')
    const r = await runBench(['pm', '--quick', '--json', '--out', html], 180_000)
    expect(r.code, r.stderr).toBe(0)
    const files = JSON.parse(r.stdout) as ReportFile[]
    expect(files).toHaveLength(1)
    checkSuite(files[0], 'pm')
    const names = files[0].results.map((f) => f.name)
    // The measurements the spawn-path targets need.
    for (const want of [
      /^domains spawned, exited and waited \(reaped\), 256 in flight$/,
      /^spawn \+ wait p50, 1 in flight$/,
      /^main-thread bytes allocated per domain$/,
      /^event-loop delay p99, full spawn load, 1 core$/,
    ]) {
      expect(
        names.some((n) => want.test(n)),
        String(want),
      ).toBe(true)
    }
    const spawn = files[0].results.find((f) => f.name.startsWith('domains spawned, exited and'))
    expect(Object.keys(spawn?.peers ?? {}).sort()).toEqual(['piscina-defaults', 'piscina-tuned'])
    expect(spawn?.headline).toMatch(/^piscina-(defaults|tuned)$/)
    const page = readFileSync(html, 'utf8')
    expect(page).toContain('<canvas')
    expect(page).toContain('pm: throughput')
    expect(page).toContain('quick, not comparable')
  }, 200_000)

  it('ring --quick: JSON of the documented shape; the table is labelled', async () => {
    const r = await runBench(['ring', '--quick', '--no-html'], 180_000)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('(quick, not comparable')
    const file = JSON.parse(
      readFileSync(join(ROOT, 'bench', 'results', 'ring.quick.json'), 'utf8'),
    ) as ReportFile
    checkSuite(file, 'ring')
    // Like for like: no batched ring figure is held against one frame per message.
    for (const f of file.results) expect(Object.keys(f.peers ?? {})).not.toContain('postMessage-1')
  }, 200_000)

  it('remote --quick: a broker, a node and the bare NATS peers, every figure beside them', async () => {
    const r = await runBench(['remote', '--quick', '--no-html'], 180_000)
    expect(r.code, r.stderr).toBe(0)
    const file = JSON.parse(
      readFileSync(join(ROOT, 'bench', 'results', 'remote.quick.json'), 'utf8'),
    ) as ReportFile
    checkSuite(file, 'remote')
    const ping = file.results.find((f) => f.name.startsWith('ping round trip p50'))
    expect(Object.keys(ping?.peers ?? {})).toEqual(
      expect.arrayContaining(['nats-request', 'nats-pubsub']),
    )
  }, 200_000)

  it('an unknown suite and an unknown option are usage errors', async () => {
    const r = await runBench(['nope'], 30_000)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown suite 'nope'")
    expect((await runBench(['--frobnicate'], 30_000)).code).toBe(2)
  })
})

describe('npm run bench:readme (bench/lib/table.ts)', () => {
  it('builds the table from a full run, with what each ratio compares and the load', () => {
    const figure = {
      name: 'one-way 16 B frames, 64 per publish (reserveMany)',
      group: 'g',
      unit: 'frames/s',
      better: 'higher' as const,
      value: 100e6,
      compares: 'same batching',
      peers: { 'postMessage-poll': 10e6 },
      ratio: { 'postMessage-poll': 10 },
      loadavg: 1.5,
    }
    const file: ReportFile = {
      suite: 'ring',
      quick: false,
      comparable: true,
      label: 'full run',
      command: 'npm run bench -- all',
      commit: 'abc1234',
      node: 'v20',
      cpus: 2,
      cpuModel: 'cpu',
      platform: 'linux x64',
      started: '2026-01-01T00:00:00.000Z',
      date: '2026-01-01T00:05:00.000Z',
      seconds: 300,
      loadavg: [1, 2],
      quiet: null,
      runs: 5,
      results: [figure],
      notes: [],
    }
    const md = benchTable({ ring: file, pm: null })
    expect(md).toContain('| ring, one-way 16 B frames, 64 per publish | 100.00 M frames/s |')
    expect(md).toContain('postMessage-poll 10.00 M frames/s: x10.00')
    expect(md).toContain('64 frames per postMessage')
    expect(md).toContain('| 1.5 |')
    expect(md).toContain('commit abc1234')
  })
})
