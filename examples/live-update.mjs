// examples/live-update.mjs: update a service's code while a client keeps calling it.
import { boot } from 'multikernel'

const rt = await boot({ cores: 2 })
const v = (n) => new URL(`./counter.mjs?v=${n}`, import.meta.url)
await rt.services.up('counter', v(1), { initTimeoutMs: 5000 })

const counter = await rt.session('counter')
let answered = 0
let running = true
const client = (async () => {
  while (running) {
    await counter.call('inc', 1) // never fails, never waits long: the update only pauses it
    answered++
  }
})()

await new Promise((r) => setTimeout(r, 50))
const info = await rt.services.update('counter', v(2))
console.log('version:', info.version, await counter.call('version')) // version: 1 2

// A new version that throws while starting: rolled back, the old one serves on.
try {
  await rt.services.update('counter', new URL('./counter.mjs?v=broken', import.meta.url))
} catch (err) {
  console.log('update failed:', err.code, 'still', await counter.call('version')) // UPDATE_FAILED still 2
}

running = false
await client
const count = await counter.call('inc', 0)
console.log('exact:', count === answered, 'same session:', rt.sessions().length === 1)
await rt.shutdown()
