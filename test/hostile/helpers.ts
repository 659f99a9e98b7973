// Shared by the hostile-domain suites (issue 10): fixtures, a runtime per test with
// an event recorder, and a bystander check.
import { expect } from 'vitest'
import { boot, type BootOptions, type DomainCap, type Runtime } from 'multikernel'
import { Recorder, within, until, sleep, codeOf } from '../supervisor/helpers.js'
export { Recorder, within, until, sleep, codeOf }

export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url)
}

export interface Rig {
  rt: Runtime
  rec: Recorder
}

let current: Rig | undefined

/** A runtime for one test (2 cores, a short supervision period); ended by `stop`. */
export async function start(opts: BootOptions = {}): Promise<Rig> {
  const rt = await boot({ cores: 2, supervisor: { periodMs: 100 }, ...opts })
  current = { rt, rec: new Recorder(rt) }
  return current
}

export async function stop(): Promise<void> {
  await current?.rt.shutdown()
  current = undefined
}

/** A bystander on `core`; `check` stops it and expects a clean, uneventful end. */
export async function bystander(rt: Runtime, core: number): Promise<() => Promise<void>> {
  const d: DomainCap = await rt.spawn(fixture('bystander.mjs'), { core })
  return async () => {
    expect(rt.status(d).state).toBe('RUNNING')
    const r = await within(rt.terminate(d, 5000), 'the bystander to stop')
    expect(r).toMatchObject({ exitCode: 0, reason: 'exited' })
  }
}

/** Spawn `program` on `core` until it works (a core being restarted refuses meanwhile). */
export async function spawnWhenUp(
  rt: Runtime,
  program: URL,
  core: number,
  ms = 15_000,
): Promise<DomainCap> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await rt.spawn(program, { core })
    } catch (err) {
      if (Date.now() > end) throw err
      await sleep(20)
    }
  }
}
