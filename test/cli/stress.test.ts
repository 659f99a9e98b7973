/**
 * `multikernel stress`, run as users run it: the built CLI in a child process.
 * Quick runs only (small frame counts); no test asserts a duration.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'

/** The documented JSON shape (docs/stress.md), checked key by key. */
function expectRunShape(r: Record<string, unknown>): void {
  const num = expect.any(Number)
  expect(r).toMatchObject({
    config: {
      producers: num,
      consumers: num,
      capacity: num,
      frameSize: num,
      slotBytes: num,
      wait: expect.stringMatching(/^(spin|sleep|spin-then-sleep)$/),
      spin: num,
    },
    verification: {
      ok: expect.any(Boolean),
      expected: num,
      delivered: num,
      missing: num,
      duplicates: num,
      corrupt: num,
      outOfOrder: num,
      problems: expect.any(Array),
    },
    elapsedMs: num,
    throughput: { framesPerSec: num, bytesPerSec: num },
    latencyUs: { p50: num, p90: num, p99: num, p999: num, max: num, mean: num },
    contention: {
      casRetries: num,
      producerCasRetries: num,
      consumerCasRetries: num,
      fullSpins: num,
      emptySpins: num,
      fullStalls: num,
      emptyStalls: num,
      producerSleeps: num,
      consumerSleeps: num,
      yields: num,
      notifies: num,
    },
    fairness: { jain: num, minShare: num, maxShare: num, shares: expect.any(Array) },
    producers: expect.any(Array),
    consumers: expect.any(Array),
  })
  const config = r.config as { frames: unknown; durationMs: unknown; producers: number }
  expect(config.frames === null || typeof config.frames === 'number').toBe(true)
  expect(config.durationMs === null || typeof config.durationMs === 'number').toBe(true)
  const producers = r.producers as unknown[]
  expect(producers).toHaveLength(config.producers)
  for (const p of producers) {
    expect(p).toMatchObject({
      id: num,
      sent: num,
      delivered: num,
      share: num,
      framesPerSec: num,
      casRetries: num,
      fullStalls: num,
      sleeps: num,
    })
  }
  for (const c of r.consumers as unknown[]) {
    expect(c).toMatchObject({
      id: num,
      received: num,
      casRetries: num,
      emptyStalls: num,
      sleeps: num,
    })
  }
}

interface Doc {
  schema: string
  mode: string
  ok: boolean
  runs: Array<
    Record<string, unknown> & { verification: { ok: boolean; expected: number; delivered: number } }
  >
  report: string | null
}

function parse(stdout: string): Doc {
  return JSON.parse(stdout) as Doc
}

const QUICK = ['--frames', '20000', '--producers', '2', '--consumers', '2']

describe('multikernel stress: every mode verifies and reports', () => {
  for (const wait of ['spin', 'sleep', 'spin-then-sleep']) {
    it(`--wait ${wait}: exit 0, every frame exactly once, documented JSON`, async () => {
      const r = await runCli(['stress', ...QUICK, '--capacity', '16', '--wait', wait, '--json'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const doc = parse(r.stdout)
      expect(doc).toMatchObject({
        schema: 'multikernel-stress/1',
        mode: 'run',
        ok: true,
        report: null,
      })
      expect(doc.runs).toHaveLength(1)
      const run = doc.runs[0]
      expectRunShape(run)
      expect(run.verification).toMatchObject({
        ok: true,
        expected: 20_000,
        delivered: 20_000,
        missing: 0,
        duplicates: 0,
        corrupt: 0,
        outOfOrder: 0,
      })
      expect(run.config).toMatchObject({
        producers: 2,
        consumers: 2,
        capacity: 16,
        wait,
        frames: 20_000,
      })
      expect(run).not.toHaveProperty('fault')
    })
  }

  it('--duration: runs for a time instead of a frame count, and verifies', async () => {
    const r = await runCli(['stress', '-p', '2', '-c', '1', '--duration', '0.3', '--json'])
    expect(r.code).toBe(0)
    const run = parse(r.stdout).runs[0]
    expectRunShape(run)
    expect(run.config).toMatchObject({ frames: null, durationMs: 300 })
    expect(run.verification.ok).toBe(true)
    expect(run.verification.delivered).toBe(run.verification.expected)
  })

  it('text output: the verdict, the figures, no colour off a terminal', async () => {
    const r = await runCli(['stress', '-n', '5000', '-p', '3', '-c', '1', '-f', '100'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('verified: all 5000 frames arrived exactly once')
    for (const word of ['throughput', 'latency', 'p99.9', 'CAS retries', 'stalls', 'Jain']) {
      expect(r.stdout).toContain(word)
    }
    expect(r.stdout + r.stderr).not.toContain(String.fromCharCode(27))
  })
})

describe('multikernel stress: the verifier catches a faulty producer (test-only --fault)', () => {
  const cases = [
    { fault: 'corrupt', field: 'corrupt' },
    { fault: 'drop', field: 'missing' },
    { fault: 'duplicate', field: 'duplicates' },
  ] as const
  for (const { fault, field } of cases) {
    it(`--fault ${fault}: exit 1, ${field} reported`, async () => {
      const r = await runCli(['stress', ...QUICK, '--fault', fault, '--json'])
      expect(r.code).toBe(1)
      const doc = parse(r.stdout)
      expect(doc.ok).toBe(false)
      const run = doc.runs[0]
      expectRunShape(run)
      expect(run.fault).toBe(fault)
      const v = run.verification as unknown as Record<string, number | boolean | string[]>
      expect(v.ok).toBe(false)
      expect(v[field]).toBe(1)
      expect((v.problems as string[]).length).toBeGreaterThan(0)
    })
  }

  it('the text output says so', async () => {
    const r = await runCli(['stress', ...QUICK, '--fault', 'drop'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('verification FAILED')
    expect(r.stdout).toMatch(/frame \d+ never arrived/)
  })

  it('--fault is hidden from --help', async () => {
    const r = await runCli(['stress', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--producers')
    expect(r.stdout).toContain('--sweep')
    expect(r.stdout).not.toContain('--fault')
  })
})

describe('multikernel stress: bad usage exits 2 with a clear message', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--producers', '-1'], /--producers must be a positive integer, got '-1'/],
    [['--producers', '0'], /--producers must be a positive integer/],
    [['--consumers', 'two'], /--consumers must be a positive integer, got 'two'/],
    [['--capacity', '48'], /--capacity must be a power of two, got 48/],
    [['--capacity', '1'], /--capacity must be a power of two from 2/],
    [['--wait', 'yield'], /argument 'yield' is invalid.*spin, sleep, spin-then-sleep/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--frame-size', '8'], /--frame-size must be between 20/],
    [['--frames', '100', '--duration', '1'], /either --frames or --duration/],
    [['--duration', '-2'], /--duration must be a number of seconds/],
    [['--sweep', '--producers', '2'], /--sweep takes its producers/],
    [['--sweep', '--sweep-capacity', '4,12'], /--sweep-capacity must be a power of two, got 12/],
    [['--sweep-producers', '1,2'], /need --sweep/],
    [['--fault', 'explode'], /argument 'explode' is invalid/],
  ]
  it.each(cases)('stress %j', async (args, message) => {
    const r = await runCli(['stress', ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('')
  })
})

describe('multikernel stress --sweep', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mk-stress-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('runs producers x capacity, verifies each, writes the HTML report', async () => {
    const out = join(dir, 'sub', 'report.html')
    const r = await runCli([
      'stress',
      '--sweep',
      '--sweep-producers',
      '2,1',
      '--sweep-capacity',
      '4,16',
      '--frames',
      '5000',
      '--consumers',
      '1',
      '--out',
      out,
      '--json',
    ])
    expect(r.code).toBe(0)
    const doc = parse(r.stdout)
    expect(doc).toMatchObject({
      schema: 'multikernel-stress/1',
      mode: 'sweep',
      ok: true,
      report: out,
    })
    expect(doc.runs.map((x) => [x.config as unknown, x.verification.ok])).toEqual([
      [expect.objectContaining({ producers: 1, capacity: 4 }), true],
      [expect.objectContaining({ producers: 1, capacity: 16 }), true],
      [expect.objectContaining({ producers: 2, capacity: 4 }), true],
      [expect.objectContaining({ producers: 2, capacity: 16 }), true],
    ])
    for (const run of doc.runs) expectRunShape(run)
    const html = await readFile(out, 'utf8')
    expect(html).toContain('<canvas id="throughput"')
    expect(html).toContain('<canvas id="p99"')
    expect(html).toContain('16 slots')
    // Self-contained: Chart.js inlined, nothing fetched.
    expect(html).toContain('Chart.js v4')
    expect(html).not.toMatch(/<script[^>]+src=/)
    expect(html).not.toMatch(/(src|href)=["']?https?:/)
  })

  it('text mode: a table per point and the report path; --out may name a directory', async () => {
    const r = await runCli([
      'stress',
      '--sweep',
      '--sweep-producers',
      '1',
      '--sweep-capacity',
      '8',
      '-n',
      '3000',
      '-c',
      '1',
      '-o',
      dir,
    ])
    expect(r.code).toBe(0)
    const file = join(dir, 'stress-report.html')
    expect(r.stdout).toContain(`report: ${file}`)
    expect(r.stdout).toContain(
      'every frame arrived exactly once, intact, in per-producer order (1 run)',
    )
    expect((await stat(file)).size).toBeGreaterThan(100_000)
  })
})
