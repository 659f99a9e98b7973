// The hostile-domain soak at a size that fits CI: a seeded mix of every fault of issue 10
// in a child process (a fault that escaped containment could abort it). The soak checks
// its own invariants and says so in its summary; here we check the child lived to say it.
// Full size: `npm run soak` (see the README's threat model).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SOAK = fileURLToPath(new URL('./soak.mjs', import.meta.url))

interface Summary {
  ok: boolean
  spawned: number
  hung: string[]
  unexpectedUncaught: string[]
  badArgumentsAccepted: string[]
  coresUp: boolean
  coresServe: boolean
  domainsLeft: number
  shutdown: string
  coreFaults: number
  coreFaultBudget: number
  modes: Record<string, number>
}

function runSoak(
  args: string[],
): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SOAK, ...args],
      { timeout: 240_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? ''
        try {
          const summary = JSON.parse(last) as Summary
          resolve({
            code: err === null ? 0 : ((err as { code?: number }).code ?? null),
            summary,
            stderr,
          })
        } catch {
          reject(
            new Error(`the soak died without a summary (${String(err)}):\n${stdout}\n${stderr}`),
          )
        }
      },
    )
  })
}

describe('hostile-domain soak', () => {
  it('survives a seeded mix of every fault: process alive, promises settled, cores back, table empty', async () => {
    const { code, summary } = await runSoak([
      '--seed',
      '20261130',
      '--domains',
      '3000',
      '--seconds',
      '90',
      '--concurrency',
      '16',
    ])
    expect(summary.hung).toEqual([])
    expect(summary.unexpectedUncaught).toEqual([])
    expect(summary.badArgumentsAccepted).toEqual([])
    expect(summary.coresUp).toBe(true)
    expect(summary.coresServe).toBe(true)
    expect(summary.domainsLeft).toBe(0)
    expect(summary.shutdown).toBe('resolved')
    expect(summary.coreFaults).toBeLessThanOrEqual(summary.coreFaultBudget)
    // The mix really held the faults (the seed fixes it).
    expect(summary.modes['throw-proxy']).toBeGreaterThan(0)
    expect(summary.modes['reject-stray']).toBeGreaterThan(0)
    expect(summary.modes['sync-loop']).toBeGreaterThan(0)
    expect(summary.modes.alloc).toBeGreaterThan(0)
    expect(summary.spawned).toBeGreaterThan(2000)
    expect(summary.ok).toBe(true)
    expect(code).toBe(0)
  }, 300_000)
})
