// examples/kv.mjs: a server domain. It serves 'kv' until asked to stop; every
// session gets its own store, and the client's label says who is asking.
export default async function main(ctx) {
  await ctx.serve('kv', {
    open(req) {
      // req.label: 'app -> cache' (composed by the process manager, not by the client)
      // req.quota: what the client donated; req.args: its open arguments
      if (req.args?.readonly && req.label.startsWith('guest')) return null // deny
      const store = new Map()
      return {
        get: (k) => store.get(k),
        set: (k, v) => void store.set(k, v),
        size: () => store.size,
        // A long poll that is never answered: what happens to it when the server dies?
        watch: () => new Promise(() => {}),
        // Stream back on the same session: req.session is the server's end.
        dump: async () => {
          for (const [k, v] of store) req.session.send({ k, v })
          await req.session.drain()
          return store.size
        },
      }
    },
    close(_req, _why) {
      // _why: 'closed' (the client closed it), 'client-exit', or 'shutdown'
    },
  })
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
