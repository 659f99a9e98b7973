// The lean caller shared by run.mjs and alloc-sites.mjs, so both measure the same garbage.
export const TRIVIAL = new URL('./trivial.mjs', import.meta.url).href

/**
 * `n` spawn + wait(reap) with at most `window` in flight, written as lean as a caller
 * can be: per domain, the caller's own garbage is two .then() promises, no closures.
 */
export function leanLoop(rt, n, window) {
  return new Promise((resolve, reject) => {
    let started = 0
    let done = 0
    const waited = (r) => {
      if (r.status === 'running' || r.exitCode !== 0)
        return reject(new Error('trivial domain failed'))
      if (++done === n) resolve()
      else if (started < n) next()
    }
    const spawned = (d) => rt.wait(d, REAP).then(waited, reject)
    const next = () => {
      started++
      rt.spawn(TRIVIAL).then(spawned, reject)
    }
    for (let i = 0; i < Math.min(window, n); i++) next()
  })
}
const REAP = { reap: true }
