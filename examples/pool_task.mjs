// examples/pool_task.mjs: a task module written for piscina, run unchanged by
// multikernel/pool: a default export, named exports, an async one that reads the
// signal piscina never gives it.

/** The sum of 1..n: a small CPU-bound task. */
export default function sum(n) {
  let s = 0
  for (let i = 1; i <= n; i++) s += i
  return s
}

/** Echo: returns what it was given (a structured clone each way). */
export const echo = (x) => x

/** Waits `ms`, or stops early when its request is aborted. */
export function slow(ms, { signal }) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(`slept ${ms} ms`), ms)
    signal.addEventListener('abort', () => {
      clearTimeout(t)
      reject(signal.reason)
    })
  })
}
