// Calls ctx.spawn with an argv sized so that the CALL frame's text (the JSON of its
// arguments, as the domain's host writes it) is each length from argv[0] to argv[1]
// in steps of argv[2]: frames that fit the spawnd's reply ring but, near the top,
// not the broker's largest message. Reports every call's outcome (its error code, or
// 'ok') to env.OUT as JSON, then ends with 0.
import { renameSync, writeFileSync } from 'node:fs'

export default async function main(ctx) {
  const [from, to, step] = ctx.argv.map(Number)
  const url = new URL('./behave.mjs', import.meta.url).href
  // The CALL's text with an empty argument: the same keys the host sends (context.ts).
  const base = JSON.stringify({
    url,
    argv: [''],
    env: {},
    core: null,
    noreap: false,
    handles: [],
    shareHandles: false,
    quota: null,
  }).length
  const results = []
  for (let n = from; n <= to; n += step) {
    try {
      const h = await ctx.spawn('./behave.mjs', { argv: ['x'.repeat(n - base)] })
      results.push('ok')
      await ctx.kill(h)
    } catch (err) {
      results.push(typeof err?.code === 'string' ? err.code : String(err))
    }
  }
  const tmp = `${ctx.env.OUT}.tmp`
  writeFileSync(tmp, JSON.stringify(results))
  renameSync(tmp, ctx.env.OUT)
  return 0
}
