/**
 * The server suite's task module (compiled to dist/bench/server/task.js), the
 * same file for multikernel/pool and for piscina, and called inline too.
 */

/** The small CPU-bound handler's work: the sum of 1..n. */
export function cpu(n: number): number {
  let s = 0
  for (let i = 1; i <= n; i++) s += i
  return s
}

/** The trivial handler's work: nothing. */
export function trivial(x: number): number {
  return x
}
