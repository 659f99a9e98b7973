/**
 * The trivial domain of the spawn benchmark: main returns 0 at once. Compiled to
 * dist/bench/pm/trivial-domain.js, which is what the spawnds import.
 */
export default function main(): number {
  return 0
}
