// multikernel/stress: the stress engine as a library, without the command line; and
// `--spin 0` (no spinning), which the command line now accepts.
import { describe, expect, it } from 'vitest'
import { runStress, stressConfig, STRESS_DEFAULTS, STRESS_SCHEMA } from 'multikernel/stress'
import { runCli } from './helpers.js'

describe('multikernel/stress runStress()', () => {
  it('runs a verified stress run and returns its typed summary', async () => {
    const seen: number[] = []
    const s = await runStress({
      producers: 2,
      consumers: 2,
      capacity: 8,
      frames: 20_000,
      onProgress: (p) => seen.push(p.received),
    })
    expect(s.verification.ok, JSON.stringify(s.verification.problems)).toBe(true)
    expect(s.verification.delivered).toBe(20_000)
    expect(s.config).toMatchObject({ producers: 2, consumers: 2, capacity: 8, frames: 20_000 })
    expect(s.producers.map((p) => p.sent).reduce((a, b) => a + b, 0)).toBe(20_000)
    expect(s.throughput.framesPerSec).toBeGreaterThan(0)
    for (const r of seen) expect(r).toBeLessThanOrEqual(20_000)
    expect(STRESS_SCHEMA).toBe('multikernel-stress/1')
  }, 60_000)

  it('spin 0 with spin-then-sleep: no spinning, still every frame exactly once', async () => {
    const s = await runStress({ wait: 'spin-then-sleep', spin: 0, frames: 10_000, capacity: 4 })
    expect(s.verification.ok).toBe(true)
    expect(s.config.spin).toBe(0)
  }, 60_000)

  it('fills in the documented defaults', () => {
    const c = stressConfig()
    expect(c).toMatchObject({ ...STRESS_DEFAULTS, durationMs: null, fault: null })
  })

  it('bad options are TypeError or RangeError naming the option', () => {
    expect(() => stressConfig({ producers: 0 })).toThrow(RangeError)
    expect(() => stressConfig({ producers: 0 })).toThrow(/producers/)
    expect(() => stressConfig({ capacity: 48 })).toThrow(/capacity must be a power of two/)
    expect(() => stressConfig({ frameSize: 8 })).toThrow(/frameSize/)
    expect(() => stressConfig({ spin: -1 })).toThrow(/spin/)
    expect(() => stressConfig({ durationMs: 0 })).toThrow(/durationMs/)
    expect(() => stressConfig({ frames: 10, durationMs: 10 })).toThrow(TypeError)
    expect(() => stressConfig({ producers: '2' as unknown as number })).toThrow(TypeError)
    expect(() => stressConfig({ wait: 'yield' as unknown as 'spin' })).toThrow(/wait must be/)
  })
})

describe('multikernel stress --spin 0', () => {
  for (const wait of ['spin', 'spin-then-sleep']) {
    it(`--wait ${wait} --spin 0 is accepted and verifies`, async () => {
      const r = await runCli(['stress', '--wait', wait, '--spin', '0', '-n', '20000', '--json'])
      expect(r.code, r.stderr).toBe(0)
      const doc = JSON.parse(r.stdout) as { ok: boolean; runs: Array<{ config: { spin: number } }> }
      expect(doc.ok).toBe(true)
      expect(doc.runs[0].config.spin).toBe(0)
    }, 60_000)
  }

  it('a negative or fractional --spin is still refused', async () => {
    for (const bad of ['-1', '1.5', 'x']) {
      const r = await runCli(['stress', '--spin', bad])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`--spin must be a non-negative integer, got '${bad}'`)
    }
  })
})
