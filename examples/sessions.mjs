// examples/sessions.mjs: a server domain, a client domain, and the main thread as
// a client and as a server; quota, a route, and a server that dies.
import { boot, KernelError } from 'multikernel'

const rt = await boot({ cores: 2, quota: { bytes: 64 << 20, handles: 1024 } })
rt.serve('log', { open: () => ({ line: (s) => console.log('log:', s) }) })

// A supervised server: its service label 'kv' is its identity in routes.
await rt.services.up('kv', new URL('./kv.mjs', import.meta.url), { initTimeoutMs: 5000 })

// The main thread as a client.
const kv = await rt.session('kv', { label: 'main' })
await kv.call('set', 'a', [1, 2, 3])
console.log('get:', await kv.call('get', 'a')) // [ 1, 2, 3 ]
const dumped = []
const reading = (async () => {
  for await (const entry of kv) {
    dumped.push(entry)
    if (dumped.length === 1) break
  }
})()
console.log('dump:', await kv.call('dump'), 'entries')
await reading
console.log('streamed:', dumped) // [ { k: 'a', v: [ 1, 2, 3 ] } ]
console.log('state:', rt.sessions()[0].state) // CAP_HANDED_OUT

// A client domain, labelled 'app': the server sees 'app -> cache'.
const app = await rt.spawn(new URL('./kv_client.mjs', import.meta.url), { label: 'app' })
console.log('client:', (await rt.wait(app)).exitCode) // 0

// Errors are coded: a throw in the server is CALL_FAILED with its error as cause.
try {
  await kv.call('nope')
} catch (err) {
  if (err instanceof KernelError) console.log('error:', err.code) // NO_SUCH_METHOD
}

// A server that dies closes its sessions at once, saying why; the quota comes back.
const pending = kv.call('watch').then(
  () => 'answered',
  (e) => e.code,
)
await rt.kill(rt.services.lookup('kv').domain)
console.log('pending:', await pending, 'closed:', await kv.closed) // SESSION_CLOSED server-exit
const t = rt.quotaTotals()
console.log('conserved:', t.root.bytes + t.domains.bytes + t.sessions.bytes === t.total.bytes)
await rt.shutdown()
