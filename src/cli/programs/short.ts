/** Demo program: a short-lived domain that does a little work and exits. */
import type { DomainContext } from '../../domain/context.js'

export default function main(ctx: DomainContext): number {
  let acc = 0
  const n = Number(ctx.argv[0] ?? '1000')
  for (let i = 0; i < n; i++) acc = (acc + i * i) % 1_000_003
  return acc >= 0 ? 0 : 1
}
