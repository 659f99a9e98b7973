// `multikernel demo`, `--version`, and what the installed binary no longer has
// (`bench`: a development tool now, tested in bench.test.ts); bad arguments exit 2
// with a clear message.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, runCli } from './helpers.js'

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

describe('multikernel --version and the fixes of issue 10, item 13', () => {
  it('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe(pkg.version)
    }
  })

  it('demo --duration accepts fractions of a second, as stress does', async () => {
    const r = await runCli(['demo', '--duration', '0.5', '--cores', '1', '--json'], 60_000)
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout) as { spawned: number; waited: number; errors: string[] }
    expect(s.waited).toBe(s.spawned)
    expect(s.errors).toEqual([])
  })

  it('demo --duration refuses what stress refuses, with the same message', async () => {
    for (const bad of ['0', '-1', 'x', '301']) {
      const demo = await runCli(['demo', '--duration', bad])
      const stress = await runCli(['stress', '--duration', bad])
      expect(demo.code).toBe(2)
      expect(stress.code).toBe(2)
      expect(demo.stderr).toContain(
        `--duration must be a number of seconds above 0 and at most 300, got '${bad}'`,
      )
      expect(stress.stderr).toContain(
        `--duration must be a number of seconds above 0 and at most 300, got '${bad}'`,
      )
    }
  })

  it('bench is not a command of the installed binary (it is `npm run bench` in a clone)', async () => {
    const r = await runCli(['bench', 'pm', '--quick'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown command 'bench'")
  })

  it('unknown subcommands are usage errors', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2)
  })
})
