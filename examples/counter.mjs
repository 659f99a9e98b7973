// examples/counter.mjs: a service that keeps a count, and hands it over when it is
// updated live. Its version is in its URL (?v=2), so an update can load a new one.
const version = new URL(import.meta.url).searchParams.get('v') ?? '1'

export default async function main(ctx) {
  // The state the previous incarnation handed over (undefined on a plain start).
  const prev = await ctx.inheritedState()
  let count = prev?.count ?? 0
  if (version === 'broken') throw new Error('a broken build') // an update to it rolls back
  ctx.onUpdate(() => ({ count })) // called at a quiescent point: no call is running
  await ctx.serve('counter', {
    open: () => ({
      inc: (by = 1) => (count += by),
      version: () => version,
    }),
  })
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
