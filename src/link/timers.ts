/** Timers as promises, for the pump, the shutdown path, and answers that must come in time. */
import { KernelError } from '../errors.js'

export function noop(): void {}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined
  const timer = new Promise<'timeout'>((resolve) => {
    t = setTimeout(() => resolve('timeout'), ms)
  })
  return Promise.race([p, timer]).finally(() => clearTimeout(t))
}

/** `p`, or a rejection TIMEOUT naming `what` when it has not settled within `ms`. */
export function orTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(
      () => reject(new KernelError('TIMEOUT', `${what}: no answer within ${ms} ms`)),
      Math.max(0, ms),
    )
  })
  return Promise.race([p, timer]).finally(() => clearTimeout(t))
}
