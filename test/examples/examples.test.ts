// The README's examples are real files; running them keeps the README true.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

function run(name: string): Promise<string> {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${name} failed: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

describe('README examples', () => {
  it('quickstart: spawn, span, wait, kill, errors', async () => {
    const out = await run('quickstart.mjs')
    // Asked after the exit: already stopped, or already cleaned too.
    expect(out).toMatch(/status: '(stopped|cleaned)', exitCode: 3, reason: 'exited'/)
    expect(out).toContain('[ 0, 1 ]')
    expect(out).toContain("{ status: 'running' }")
    expect(out).toContain("exitCode: 9, reason: 'killed'")
    expect(out).toContain('INVALID_SPAWND')
  })

  it('ring-two-threads: a million frames, checksum ok', async () => {
    expect(await run('ring-two-threads.mjs')).toContain('received 1000000 frames, checksum ok')
  })

  it('tree: a parent reaps its three children', async () => {
    const out = await run('tree.mjs')
    expect(out).toMatch(/exitCode: 3/)
    expect(out.trim().endsWith('0')).toBe(true)
  })

  it('services: a flaky service is restarted once', async () => {
    const out = await run('services.mjs')
    expect(out).toContain('restart of flaky')
    expect(out).toContain('running after 1 restart(s)')
  })
})
