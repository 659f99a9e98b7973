/**
 * The comlink requests this thread has taken (handed to an exposed object) and not
 * yet answered, over every session: a live update's quiescent point must wait for
 * them, since the session port only knows of its own calls (README, "comlink over the
 * rings"). Counted by the endpoints (endpoint.ts).
 */
let taken = 0
let waiters: (() => void)[] = []

/** A request went to an exposed object. */
export function took(): void {
  taken++
}

/** `n` requests were answered (or will never be: their session ended). */
export function answered(n = 1): void {
  taken -= n
  if (taken === 0 && waiters.length > 0) {
    const ws = waiters
    waiters = []
    for (const w of ws) w()
  }
}

/** Requests taken in this thread and not yet answered. */
export function takenCount(): number {
  return taken
}

/** Resolves once every comlink request this thread has taken is answered. */
export function comlinkQuiet(): Promise<void> {
  if (taken === 0) return Promise.resolve()
  return new Promise((resolve) => waiters.push(resolve))
}
