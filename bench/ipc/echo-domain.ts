/**
 * The server domain of the ipc suite's real-session figures: serves 'echo' (each
 * call hands its argument back) until the runtime stops it.
 */
import type { DomainContext } from '../../src/domain/context.js'

export default async function main(ctx: DomainContext): Promise<number> {
  await ctx.serve('echo', { open: () => ({ echo: (v: unknown) => v }) })
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
