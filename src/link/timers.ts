/** Timers as promises, for the pump and the shutdown path. */

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
