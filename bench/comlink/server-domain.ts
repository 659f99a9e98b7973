/**
 * The ring side of the comlink suite: a domain that serves 'comlink-bench' with
 * exposeService (comlink over its sessions), and 'plain-bench' (the same ping as a
 * session method, no comlink), until it is stopped.
 */
import type { DomainContext } from '../../src/index.js'
import { exposeService } from '../../src/comlink/index.js'
import { benchApi } from './api.js'

export default async function main(ctx: DomainContext): Promise<number> {
  await exposeService(ctx, 'comlink-bench', () => benchApi)
  // The same ping as a plain session method: the transport without comlink.
  await ctx.serve('plain-bench', { open: () => ({ ping: (x: number): number => x }) })
  await ctx.ready()
  await new Promise<void>((resolve) => ctx.stopSignal.addEventListener('abort', () => resolve()))
  return 0
}
