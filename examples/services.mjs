// node examples/services.mjs — a supervised service that crashes once and is restarted.
import { boot } from 'multikernel'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const marker = join(tmpdir(), `multikernel-example-${process.pid}`)
rmSync(marker, { force: true })
const rt = await boot({ cores: 2, supervisor: { periodMs: 100 } })
rt.events.on('restart-scheduled', (ev) =>
  console.log(`restart of ${ev.label} in ${ev.delayMs} ms: ${ev.why}`),
)
const svc = await rt.services.up('flaky', new URL('./flaky.mjs', import.meta.url), {
  argv: [marker],
  restart: 'permanent',
  initTimeoutMs: 1000, // it must call ctx.ready() within a second
})
console.log(svc.state, 'after', svc.restarts, 'restart(s)') // running after 1 restart(s)
await rt.shutdown() // services stop in reverse start order, gracefully
rmSync(marker, { force: true })
