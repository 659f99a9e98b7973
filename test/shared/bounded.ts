// Bounded waits shared by every suite: a lost wake-up or a hang fails the test
// with a message instead of hanging CI. These bound waits; they never assert speed.

/** How long anything may take before we call it a hang (not a performance bound). */
export const HANG_MS = 15_000

/** `p`, or a failure naming `what` if it has not settled within `ms`. */
export function within<T>(p: Promise<T>, what: string, ms = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`timed out: ${what}: not settled within ${ms} ms (lost wake-up or hang)`)),
      ms,
    )
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

/** Poll `check` until it returns something other than undefined/null/false; bounded. */
export async function until<T>(
  check: () => T | undefined | null | false,
  what: string,
  ms = HANG_MS,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = check()
    if (v !== undefined && v !== null && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(5)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
