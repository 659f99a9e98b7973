// Keep-alive: a port keeps its process alive while a call, a drain or an iterator
// waits (one ref'd timer, toggled), and not otherwise. Run in child processes whose
// far end is an unref'd worker, so nothing else holds the process open.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

function run(mode: string): Promise<{ code: number | null; out: string; err: string }> {
  const script = fileURLToPath(new URL('./fixtures/keepalive.mjs', import.meta.url))
  return new Promise((resolve) => {
    execFile(process.execPath, [script, mode], { timeout: 20_000 }, (error, out, err) => {
      resolve({ code: error ? ((error.code as number | null) ?? null) : 0, out, err })
    })
  })
}

describe('SessionPort keep-alive', () => {
  it('a pending call and an awaiting iterator keep the process alive', async () => {
    const r = await run('pending')
    expect(r.err).toBe('')
    expect(r.out).toBe('kept alive\n{"done":true}\n')
    expect(r.code).toBe(0)
  })

  it('a port with nothing pending lets the process exit', async () => {
    const r = await run('idle')
    // A port holding the process open would run into execFile's timeout (killed, code null).
    expect(r).toEqual({ code: 0, out: 'idle\n', err: '' })
  })
})
