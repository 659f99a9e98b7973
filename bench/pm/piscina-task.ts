/**
 * piscina's trivial task, the peer of the trivial domain and of a ping: returns its
 * argument at once. Compiled to dist/bench/pm/piscina-task.js.
 */
export default function task(x: number): number {
  return x
}
