// examples/comlink.mjs is the README's comlink example: running it keeps the README true.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('examples/comlink.mjs: calls, a callback, a proxy back, an error, a server that dies', async () => {
  const file = fileURLToPath(new URL('../../examples/comlink.mjs', import.meta.url))
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [file], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`comlink.mjs failed: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
  expect(out).toContain('add: 5')
  expect(out).toContain("serving 'main'")
  expect(out).toContain('map: [ 10, 20, 30 ]')
  expect(out).toContain('counter: 42')
  expect(out).toContain('error: RangeError no')
  expect(out).toContain('pending: SESSION_CLOSED')
  expect(out).toContain('closed: server-exit')
})
