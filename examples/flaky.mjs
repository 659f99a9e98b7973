// A service that crashes on its first start, then runs until asked to stop.
import { existsSync, writeFileSync } from 'node:fs'
export default async function main(ctx) {
  const marker = ctx.argv[0]
  if (!existsSync(marker)) {
    writeFileSync(marker, 'crashed once')
    throw new Error('first start fails')
  }
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
