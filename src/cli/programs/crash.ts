/** Demo program: a domain that crashes on purpose after a short while. */
import type { DomainContext } from '../../domain/context.js'

export default async function main(ctx: DomainContext): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, Number(ctx.argv[0] ?? '50')))
  throw new Error(`domain ${ctx.domainId} crashed on purpose (core ${ctx.core})`)
}
