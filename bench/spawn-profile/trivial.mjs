// The trivial domain of the spawn profile: main returns 0 at once.
export default function main() {
  return 0
}
