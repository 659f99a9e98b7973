// node examples/quickstart.mjs — boot, spawn, span, wait, kill, shut down.
import { boot, KernelError } from 'multikernel'

const rt = await boot({ cores: 2 })
const program = new URL('./hello.mjs', import.meta.url)

const d = await rt.spawn(program, { core: 1, argv: ['a', 'b'], env: { K: 'v' } })
console.log(await rt.wait(d)) // { status: 'stopped' (or 'cleaned'), exitCode: 3, reason: 'exited' }

const server = await rt.spawn(program, { core: 0, argv: ['serve'] })
await rt.span(server, 1) // main runs on core 1 too
console.log(rt.status(server).cores) // [ 0, 1 ]
console.log(await rt.wait(server, { nohang: true })) // { status: 'running' }
await rt.kill(server) // resolves once both dispatchers stopped
console.log(await rt.wait(server)) // { status: 'cleaned' (or 'stopped'), exitCode: 9, reason: 'killed' }

try {
  await rt.spawn(program, { core: 7 })
} catch (err) {
  if (err instanceof KernelError) console.log(err.code) // INVALID_SPAWND
}
await rt.shutdown()
