/**
 * The pool suite's task module, the same file for multikernel/pool and for
 * piscina (compiled to dist/bench/pool/task.js): each export returns what it is
 * given or a small result, so both sides copy the same bytes each way.
 */

/** The trivial task: returns its argument at once. */
export default function trivial(x: unknown): unknown {
  return x
}

/** The sum of 1..n (n = 1000 in the suite). */
export function sum(n: number): number {
  let s = 0
  for (let i = 1; i <= n; i++) s += i
  return s
}

/** Echo: the task returned whole (the 1 KB JSON object, the 64 KB buffer). */
export function echo(x: unknown): unknown {
  return x
}
