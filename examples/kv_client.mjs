// examples/kv_client.mjs: a client domain. Its session goes core to core on its
// own ring channel; the process manager only set it up.
export default async function main(ctx) {
  const kv = await ctx.session('kv', { label: 'cache', quota: { bytes: 1 << 18 } })
  await kv.call('set', 'hits', { n: 1, at: new Date(0) }) // structured clone: Dates, Maps...
  const hits = await kv.call('get', 'hits')
  const log = await ctx.session('log') // the main thread serves 'log'
  await log.call('line', `${kv.label}: ${JSON.stringify(hits)}`)
  await kv.close() // its quota returns to this domain's account
  return 0
}
