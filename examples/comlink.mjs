// examples/comlink.mjs: comlink between the main thread and a domain, over the rings
import * as Comlink from 'comlink'
import { boot } from 'multikernel'
import { wrapSession } from 'multikernel/comlink'

const rt = await boot({ cores: 2 })
const server = await rt.services.up('calc', new URL('./comlink_server.mjs', import.meta.url), {
  initTimeoutMs: 5000,
  restart: 'temporary', // not restarted after the kill below
})
const session = await rt.session('calc', { label: 'main' })
const calc = wrapSession(session) // = Comlink.wrap(endpoint(session))

console.log('add:', await calc.add(2, 3))
console.log('whoami:', await calc.whoami())
console.log(
  'map:',
  await calc.map(
    [1, 2, 3],
    Comlink.proxy((x) => x * 10),
  ),
)
const c = await calc.counter(41)
console.log('counter:', await c.inc())
c[Comlink.releaseProxy]() // frees its sub-channel on both sides
try {
  await calc.fail('no')
} catch (e) {
  console.log('error:', e.name, e.message)
}
const pending = calc.never().catch((e) => e.code)
await rt.kill(server.domain) // the server dies with a call pending...
console.log('pending:', await pending) // ...which rejects SESSION_CLOSED, not hangs
console.log('closed:', await session.closed)
await rt.shutdown()
