// The README's examples are real files; running them keeps the README true.
import { describe, expect, it } from 'vitest'
import { runExample as run } from '../shared/examples.js'

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

  it('sessions: a server domain, a client domain, the main thread both ways, a server that dies', async () => {
    const out = await run('sessions.mjs')
    expect(out).toContain('get: [ 1, 2, 3 ]')
    expect(out).toContain("streamed: [ { k: 'a', v: [ 1, 2, 3 ] } ]")
    expect(out).toContain('state: CAP_HANDED_OUT')
    expect(out).toContain('log: app -> cache: {"n":1,"at":"1970-01-01T00:00:00.000Z"}')
    expect(out).toContain('client: 0')
    expect(out).toContain('error: NO_SUCH_METHOD')
    expect(out).toContain('pending: SESSION_CLOSED closed: server-exit')
    expect(out).toContain('conserved: true')
  })

  it('live-update: a client keeps calling through an update and a rollback', async () => {
    const out = await run('live-update.mjs')
    expect(out).toContain('version: 1 2')
    expect(out).toContain('update failed: UPDATE_FAILED still 2')
    expect(out).toContain('exact: true same session: true')
  })
})
