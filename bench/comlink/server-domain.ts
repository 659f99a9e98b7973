/**
 * The ring side of the comlink suite: a domain that serves 'comlink-bench' with
 * exposeService (comlink over its sessions) until it is stopped.
 */
import type { DomainContext } from '../../src/index.js'
import { exposeService } from '../../src/comlink/index.js'
import { benchApi } from './api.js'

export default async function main(ctx: DomainContext): Promise<number> {
  await exposeService(ctx, 'comlink-bench', () => benchApi)
  await ctx.ready()
  await new Promise<void>((resolve) => ctx.stopSignal.addEventListener('abort', () => resolve()))
  return 0
}
