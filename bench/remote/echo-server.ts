/**
 * The remote suite's server domain, run on the remote core: serves 'remote-echo',
 * whose `echo` returns its argument (8 bytes in the suite), until it is stopped.
 */
import type { DomainContext } from '../../src/index.js'

export const ECHO_SERVICE = 'remote-echo'

export default async function main(ctx: DomainContext): Promise<number> {
  await ctx.serve(ECHO_SERVICE, { open: () => ({ echo: (x: unknown): unknown => x }) })
  await ctx.ready()
  await new Promise<void>((resolve) => ctx.stopSignal.addEventListener('abort', () => resolve()))
  return 0
}
