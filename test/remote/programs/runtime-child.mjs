// A runtime in a process of its own (so a test can SIGKILL it): boots with the
// node named argv[3] on the broker argv[2] (the secret in MULTIKERNEL_SECRET),
// starts a domain that runs until killed on the node's first core, prints
// "runtime up" and waits to be killed.
import { boot } from 'multikernel'

const [url, name] = process.argv.slice(2)
const rt = await boot({ cores: 1, remote: { servers: url, nodes: [name], heartbeatMs: 200 } })
await rt.spawn(new URL('./behave.mjs', import.meta.url), { core: 1, argv: ['sleep'] })
console.log('runtime up')
setInterval(() => {}, 60_000)
