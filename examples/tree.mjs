// node examples/tree.mjs — domains that spawn, wait for and kill their children.
import { boot } from 'multikernel'

const rt = await boot({ cores: 2 })
const parent = await rt.spawn(new URL('./tree-parent.mjs', import.meta.url))
console.log(await rt.wait(parent, { reap: true })) // exit code = children reaped
console.log(rt.domains().length) // 0: everything reaped and freed
await rt.shutdown()
