/** Demo program: a long-lived domain that ticks on a timer until it is killed. */
import type { DomainContext } from '../../domain/context.js'

export default function main(ctx: DomainContext): Promise<number> {
  return new Promise((resolve) => {
    let ticks = 0
    const t = setInterval(() => ticks++, Number(ctx.env.TICK_MS ?? '20'))
    ctx.signal.addEventListener('abort', () => {
      clearInterval(t)
      resolve(ticks >= 0 ? 0 : 1)
    })
  })
}
