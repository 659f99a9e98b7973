// A parent domain on a remote core that spawns a child domain on the core env.CHILD
// (a remote one too), reports what it sees of it to env.OUT (JSON), waits until the
// file env.GO exists, ends the child and reaps it, reports again and ends with 21.
import { existsSync, renameSync, writeFileSync } from 'node:fs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function report(path, data) {
  const tmp = `${path}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(tmp, JSON.stringify(data))
  renameSync(tmp, path)
}

export default async function main(ctx) {
  const child = await ctx.spawn('./behave.mjs', { core: Number(ctx.env.CHILD), argv: ['sleep'] })
  const status = await ctx.status(child)
  const children = await ctx.children()
  report(ctx.env.OUT, { core: ctx.core, status, children })
  const end = Date.now() + 30_000
  while (!existsSync(ctx.env.GO) && Date.now() < end) await sleep(5)
  await ctx.kill(child)
  const exit = await ctx.wait(child)
  report(ctx.env.OUT, { core: ctx.core, status, children, exit, after: await ctx.children() })
  return 21
}
