// examples/comlink_server.mjs: a domain that serves 'calc' with comlink
import * as Comlink from 'comlink'
import { exposeService } from 'multikernel/comlink'

export default async function main(ctx) {
  await exposeService(ctx, 'calc', (req) => ({
    add: (a, b) => a + b,
    whoami: () => `domain ${ctx.domainId}, serving '${req.label}'`,
    async map(xs, fn) {
      const out = []
      for (const x of xs) out.push(await fn(x)) // fn: the caller's callback, over the rings
      return out
    },
    counter: (n) => Comlink.proxy({ inc: () => ++n }), // a proxy the other way
    fail: (m) => {
      throw new RangeError(m)
    },
    never: () => new Promise(() => {}),
  }))
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
