// A supervised service: says it is ready, writes "<domainId> <core>" to env.OUT,
// and runs until it is stopped.
import { appendFileSync } from 'node:fs'

export default async function main(ctx) {
  await ctx.ready()
  appendFileSync(ctx.env.OUT, `${ctx.domainId} ${ctx.core}\n`)
  await new Promise((resolve) => {
    if (ctx.signal.aborted) resolve()
    else ctx.signal.addEventListener('abort', () => resolve())
  })
  return 0
}
