// `multikernel demo` and `multikernel bench` in quick mode: they run, their JSON
// parses to the documented shape, and bad arguments exit 2 with a clear message.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'mk-commands-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

interface Figure {
  name: string
  group: string
  unit: string
  better: string
  value: number
  peers?: Record<string, number>
  ratio?: Record<string, number>
}

interface SuiteFile {
  suite: string
  quick: boolean
  node: string
  cpus: number
  runs: number
  results: Figure[]
  notes: string[]
}

function checkSuite(f: SuiteFile, name: string): void {
  expect(f.suite).toBe(name)
  expect(f.quick).toBe(true)
  expect(typeof f.node).toBe('string')
  expect(f.results.length).toBeGreaterThan(0)
  for (const r of f.results) {
    expect(typeof r.name).toBe('string')
    expect(typeof r.unit).toBe('string')
    expect(Number.isFinite(r.value)).toBe(true)
    for (const v of Object.values(r.peers ?? {})) expect(typeof v).toBe('number')
  }
  // Every suite measures its peers in the same run: at least one figure has ratios.
  expect(f.results.some((r) => Object.keys(r.ratio ?? {}).length > 0)).toBe(true)
}

describe('multikernel demo', () => {
  it('runs a short mixed workload and reports JSON', async () => {
    const r = await runCli(['demo', '--duration', '1', '--cores', '2', '--json'], 60_000)
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout) as Record<string, unknown>
    expect(s.cores).toBe(2)
    expect(typeof s.spawned).toBe('number')
    expect(s.waited).toBe(s.spawned)
    const by = s.byReason as Record<string, number>
    expect(by.error).toBeGreaterThan(0) // the domain that crashes on purpose
    expect(by.killed).toBeGreaterThan(0)
    expect(s.errors).toEqual([])
  })

  it('prints plain lines off a terminal', async () => {
    const r = await runCli(['demo', '--duration', '1', '--cores', '1'], 60_000)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('summary')
    expect(r.stdout).not.toContain('\x1b[')
  })

  it('refuses bad arguments with exit code 2', async () => {
    const r = await runCli(['demo', '--cores', '-1'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--cores must be a positive integer')
  })
})

describe('multikernel bench', () => {
  it('pm --quick: JSON of the documented shape, and an HTML report', async () => {
    const html = join(tmp, 'pm.html')
    const r = await runCli(['bench', 'pm', '--quick', '--json', '--out', html], 180_000)
    expect(r.code, r.stderr).toBe(0)
    const files = JSON.parse(r.stdout) as SuiteFile[]
    expect(files).toHaveLength(1)
    checkSuite(files[0], 'pm')
    const page = readFileSync(html, 'utf8')
    expect(page).toContain('<canvas')
    expect(page).toContain('pm: throughput')
  }, 200_000)

  it('ring --quick: JSON of the documented shape', async () => {
    const r = await runCli(['bench', 'ring', '--quick', '--json', '--no-html'], 180_000)
    expect(r.code, r.stderr).toBe(0)
    const files = JSON.parse(r.stdout) as SuiteFile[]
    checkSuite(files[0], 'ring')
  }, 200_000)

  it('an unknown suite is a usage error', async () => {
    const r = await runCli(['bench', 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown suite 'nope'")
  })

  it('unknown subcommands and options are usage errors', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2)
    expect((await runCli(['bench', '--frobnicate'])).code).toBe(2)
  })
})
