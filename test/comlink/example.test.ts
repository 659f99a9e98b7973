// examples/comlink.mjs is the README's comlink example: running it keeps the README true.
import { expect, it } from 'vitest'
import { runExample } from '../shared/examples.js'

it('examples/comlink.mjs: calls, a callback, a proxy back, an error, a server that dies', async () => {
  const out = await runExample('comlink.mjs')
  expect(out).toContain('add: 5')
  expect(out).toContain("serving 'main'")
  expect(out).toContain('map: [ 10, 20, 30 ]')
  expect(out).toContain('counter: 42')
  expect(out).toContain('error: RangeError no')
  expect(out).toContain('pending: SESSION_CLOSED')
  expect(out).toContain('closed: server-exit')
})
