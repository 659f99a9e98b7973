/**
 * Bad arguments of the public API: each is refused at once with a TypeError, a
 * RangeError or a KernelError with its code, naming the option, and nothing is
 * half-done (no worker started, no service added, no domain touched). And the
 * exit-code rule, the same for main's return value and ctx.exit().
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boot, KernelError, type Runtime, type WaitResult } from 'multikernel'
import { fixture, within } from './helpers.js'

const behave = fixture('behave.mjs')
const exitRule = fixture('exit-rule.mjs')

let rt: Runtime

beforeAll(async () => {
  rt = await boot({ cores: 2, supervisor: { periodMs: 50, superviseCores: false } })
})

afterAll(async () => {
  await within(rt.shutdown(), 'shutdown')
})

type Kind = 'TypeError' | 'RangeError' | `Kernel:${string}`

async function refused(p: Promise<unknown>, kind: Kind, names: string | RegExp): Promise<void> {
  const err = await within(
    p.then(
      () => null,
      (e: unknown) => e,
    ),
    'a refusal',
  )
  expect(err, `expected a ${kind}`).toBeInstanceOf(Error)
  const e = err as Error
  if (kind.startsWith('Kernel:')) {
    expect(KernelError.is(e, kind.slice(7) as never), `${e.name}: ${e.message}`).toBe(true)
  } else {
    expect(e.name, e.message).toBe(kind)
  }
  expect(e.message).toMatch(names)
}

describe('boot options', () => {
  const cases: [string, unknown, Kind, string | RegExp][] = [
    ['options not an object', 'x', 'TypeError', /boot options/],
    ['an unknown key (a typo)', { core: 2 }, 'TypeError', /unknown option 'core'/],
    ['cores 0', { cores: 0 }, 'RangeError', /cores/],
    ['cores 1.5', { cores: 1.5 }, 'RangeError', /cores/],
    ['cores "2"', { cores: '2' }, 'TypeError', /cores/],
    ['hotSpinMicros NaN', { hotSpinMicros: Number.NaN }, 'RangeError', /hotSpinMicros/],
    ['hotSpinMicros -1', { hotSpinMicros: -1 }, 'RangeError', /hotSpinMicros/],
    ['hotSpinMicros "x"', { hotSpinMicros: 'x' }, 'TypeError', /hotSpinMicros/],
    ['spin -1', { spin: -1 }, 'RangeError', /spin/],
    ['spin NaN', { spin: Number.NaN }, 'RangeError', /spin/],
    ['replyRingCapacity 16', { replyRingCapacity: 16 }, 'RangeError', /replyRingCapacity/],
    ['ringCapacity 32', { ringCapacity: 32 }, 'RangeError', /ringCapacity/],
    [
      'ringCapacity 1000 (no power of two)',
      { ringCapacity: 1000 },
      'RangeError',
      /ringCapacity.*power of two/,
    ],
    ['ringCapacity 2^31', { ringCapacity: 2 ** 31 }, 'RangeError', /ringCapacity/],
    ['maxArgBytes 0', { maxArgBytes: 0 }, 'RangeError', /maxArgBytes/],
    ['maxDispatchers "x"', { maxDispatchers: 'x' }, 'TypeError', /maxDispatchers/],
    [
      'bootTimeoutMs 2^40 (a timer cannot keep it)',
      { bootTimeoutMs: 2 ** 40 },
      'RangeError',
      /bootTimeoutMs/,
    ],
    ['shutdownTimeoutMs NaN', { shutdownTimeoutMs: Number.NaN }, 'RangeError', /shutdownTimeoutMs/],
    ['eventBuffer 0', { eventBuffer: 0 }, 'RangeError', /eventBuffer/],
    ['execArgv "x"', { execArgv: '--no-warnings' }, 'TypeError', /execArgv/],
    ['execArgv [1]', { execArgv: [1] }, 'TypeError', /execArgv/],
    ['supervisor "x"', { supervisor: 'x' }, 'TypeError', /supervisor/],
    ['supervisor null', { supervisor: null }, 'TypeError', /supervisor/],
    [
      'supervisor.periodMs Infinity',
      { supervisor: { periodMs: Infinity } },
      'RangeError',
      /periodMs/,
    ],
    ['supervisor.periodMs 0', { supervisor: { periodMs: 0 } }, 'RangeError', /periodMs/],
    [
      'supervisor.superviseCores "no"',
      { supervisor: { superviseCores: 'no' } },
      'TypeError',
      /superviseCores/,
    ],
    [
      'supervisor unknown key',
      { supervisor: { period: 5 } },
      'TypeError',
      /unknown option 'period'/,
    ],
    [
      'coreRestart.backoff "x"',
      { supervisor: { coreRestart: { backoff: 'x' } } },
      'TypeError',
      /backoff/,
    ],
    [
      'coreRestart.backoff [NaN]',
      { supervisor: { coreRestart: { backoff: [Number.NaN] } } },
      'RangeError',
      /backoff/,
    ],
    [
      'coreRestart.maxRestarts -1',
      { supervisor: { coreRestart: { maxRestarts: -1 } } },
      'RangeError',
      /maxRestarts/,
    ],
    [
      'coreRestart.healthyMs "x"',
      { supervisor: { coreRestart: { healthyMs: 'x' } } },
      'TypeError',
      /healthyMs/,
    ],
  ]
  for (const [what, opts, kind, names] of cases) {
    it(`refuses ${what}`, async () => {
      await refused(boot(opts as never), kind, names)
    })
  }

  it('accepts the smallest rings (256 bytes) and they serve a spawn', async () => {
    const small = await within(
      boot({
        cores: 1,
        ringCapacity: 256,
        replyRingCapacity: 256,
        supervisor: { superviseCores: false },
      }),
      'boot',
    )
    try {
      const d = await within(small.spawn(behave, { argv: ['return', '3'] }), 'spawn')
      expect(await within(small.wait(d), 'wait')).toMatchObject({ exitCode: 3 })
    } finally {
      await within(small.shutdown(), 'shutdown')
    }
  })
})

describe('rt.spawn, wait, kill, terminate', () => {
  it('refuses bad spawn options at once', async () => {
    await refused(rt.spawn(behave, { env: null } as never), 'TypeError', /env/)
    await refused(rt.spawn(behave, { argv: null } as never), 'TypeError', /argv/)
    await refused(rt.spawn(behave, { argv: [1] } as never), 'TypeError', /argv/)
    await refused(rt.spawn(behave, { env: { A: 1 } } as never), 'TypeError', /env\.A/)
    await refused(rt.spawn(behave, { core: null } as never), 'Kernel:INVALID_SPAWND', /core/)
    await refused(rt.spawn(behave, { core: 99 }), 'Kernel:INVALID_SPAWND', /core 99/)
    await refused(rt.spawn(behave, { core: 'x' } as never), 'Kernel:INVALID_SPAWND', /core/)
    await refused(rt.spawn(behave, { cores: 1 } as never), 'TypeError', /unknown option 'cores'/)
    await refused(rt.spawn(behave, 'x' as never), 'TypeError', /spawn options/)
    expect(rt.domains().filter((s) => s.state === 'RUNNING')).toHaveLength(0)
  })

  it('refuses a bad graceMs, wait or kill option, leaving the domain running', async () => {
    const d = await within(rt.spawn(behave, { argv: ['sleep'] }), 'spawn')
    for (const g of [-5, Number.NaN, Infinity, 2 ** 40])
      await refused(rt.terminate(d, g), 'RangeError', /graceMs/)
    for (const g of ['x', undefined, null])
      await refused(rt.terminate(d, g as never), 'TypeError', /graceMs/)
    await refused(rt.wait(d, { nohang: 'yes' } as never), 'TypeError', /nohang/)
    await refused(rt.wait(d, { reap: 1 } as never), 'TypeError', /reap/)
    await refused(rt.wait(d, { nohng: true } as never), 'TypeError', /unknown option 'nohng'/)
    await refused(rt.kill(d, { subtree: 'yes' } as never), 'TypeError', /subtree/)
    await refused(rt.kill(d, null as never), 'TypeError', /kill options/)
    expect(rt.status(d).state).toBe('RUNNING')
    // graceMs 0 is allowed: stop now, kill at once if it has not ended.
    const r = await within(rt.terminate(d, 0), 'terminate')
    expect(r.status).not.toBe('running')
  })
})

describe('rt.services', () => {
  const cases: [string, unknown, Kind, string | RegExp][] = [
    ['options "x"', 'x', 'TypeError', /service options/],
    ['an unknown key', { argvs: [] }, 'TypeError', /unknown option 'argvs'/],
    ['core 99', { core: 99 }, 'Kernel:INVALID_SPAWND', /core 99/],
    ['core -1', { core: -1 }, 'Kernel:INVALID_SPAWND', /core -1/],
    ['core "0"', { core: '0' }, 'Kernel:INVALID_SPAWND', /core/],
    ['argv [1]', { argv: [1] }, 'TypeError', /argv/],
    ['env null', { env: null }, 'TypeError', /env/],
    ['backoff "x"', { backoff: 'x' }, 'TypeError', /backoff/],
    ['backoff []', { backoff: [] }, 'TypeError', /backoff/],
    ['backoff [-1]', { backoff: [-1] }, 'RangeError', /backoff/],
    ['maxRestarts 1.5', { maxRestarts: 1.5 }, 'RangeError', /maxRestarts/],
    ['withinMs NaN', { withinMs: Number.NaN }, 'RangeError', /withinMs/],
    ['healthyMs "x"', { healthyMs: 'x' }, 'TypeError', /healthyMs/],
    ['maxSkippedBeats "x"', { maxSkippedBeats: 'x' }, 'TypeError', /maxSkippedBeats/],
    ['initTimeoutMs NaN', { initTimeoutMs: Number.NaN }, 'RangeError', /initTimeoutMs/],
    ['heartbeatMs 2^40', { heartbeatMs: 2 ** 40 }, 'RangeError', /heartbeatMs/],
    ['stopTimeoutMs -1', { stopTimeoutMs: -1 }, 'RangeError', /stopTimeoutMs/],
    ['restart "always"', { restart: 'always' }, 'TypeError', /restart policy/],
  ]
  for (const [what, opts, kind, names] of cases) {
    it(`up() refuses ${what} at once, adding nothing`, async () => {
      await refused(rt.services.up('bad', behave, opts as never), kind, names)
      expect(rt.services.lookup('bad')).toBeUndefined()
    })
  }

  it('refuses a label that is not a non-empty string', async () => {
    await refused(rt.services.up('', behave), 'TypeError', /label/)
    await refused(rt.services.down(5 as never), 'TypeError', /label/)
    await refused(rt.services.restart(null as never), 'TypeError', /label/)
    await refused(rt.services.refresh({} as never), 'TypeError', /label/)
    expect(() => rt.services.lookup(7 as never)).toThrow(TypeError)
  })

  it('argv over maxArgBytes: the first spawn is refused and the service gives up, no restarts', async () => {
    const err = await within(
      rt.services.up('big', behave, { argv: ['sleep', 'x'.repeat(4096)] }).then(
        () => null,
        (e: unknown) => e,
      ),
      'up to fail',
    )
    expect(KernelError.is(err, 'ARGS_TOO_LARGE')).toBe(true)
    expect(rt.services.lookup('big')).toMatchObject({ state: 'failed', restarts: 0 })
    await within(rt.services.down('big'), 'down')
  })

  it('a preferred core that exists is used', async () => {
    const info = await within(
      rt.services.up('on1', behave, { core: 1, argv: ['sleep'], stopTimeoutMs: 50 }),
      'up',
    )
    expect(rt.status(info.domain!).cores).toEqual([1])
    await within(rt.services.down('on1'), 'down')
  })
})

describe('the exit-code rule', () => {
  async function end(argv: string[]): Promise<WaitResult> {
    const d = await within(rt.spawn(exitRule, { argv }), 'spawn')
    return within(rt.wait(d, { reap: true }), 'wait')
  }

  it('an int32 integer is the code, from return and from ctx.exit alike', async () => {
    for (const mode of ['return', 'exit']) {
      expect(await end([mode, '7'])).toMatchObject({ exitCode: 7, reason: 'exited' })
      expect(await end([mode, '-2'])).toMatchObject({ exitCode: -2, reason: 'exited' })
      expect(await end([mode, String(2 ** 31 - 1)])).toMatchObject({
        exitCode: 2 ** 31 - 1,
        reason: 'exited',
      })
      expect(await end([mode, String(-(2 ** 31))])).toMatchObject({
        exitCode: -(2 ** 31),
        reason: 'exited',
      })
    }
    expect(await end(['return', 'undefined'])).toMatchObject({ exitCode: 0, reason: 'exited' })
    expect(await end(['exit', 'none'])).toMatchObject({ exitCode: 0, reason: 'exited' })
  })

  it('anything else is exit 1 with reason error and a TypeError saying why, from both paths', async () => {
    for (const mode of ['return', 'exit']) {
      for (const bad of [
        '"abc"',
        String(2 ** 40),
        '2.5',
        'null',
        'true',
        '{"a":1}',
        String(2 ** 31),
      ]) {
        const r = await end([mode, bad])
        expect(r, `${mode} ${bad}`).toMatchObject({ exitCode: 1, reason: 'error' })
        if (r.status === 'running') throw new Error('unreachable')
        expect(r.error?.name, `${mode} ${bad}`).toBe('TypeError')
        expect(r.error?.message, `${mode} ${bad}`).toMatch(/exit code is an integer/)
      }
    }
  })

  it('ctx calls refuse bad options, naming them, and act on nothing', async () => {
    const r = await end(['ctx-args'])
    if (r.status === 'running' || r.error === undefined) throw new Error('expected an error')
    const out = JSON.parse(r.error.message) as Record<
      string,
      { name: string; message: string } | string
    >
    for (const k of [
      'envNull',
      'argvNull',
      'argvNumbers',
      'noreap',
      'shareHandles',
      'nohang',
      'subtree',
    ]) {
      expect(out[k], k).not.toBe('accepted')
      const name = { envNull: 'env', argvNull: 'argv', argvNumbers: 'argv' }[k] ?? k
      expect((out[k] as { message: string }).message, k).toContain(name)
    }
    expect(out.exitString).toMatchObject({ name: 'TypeError' })
    expect(out.childState).toBe('RUNNING')
  })
})

describe('execArgv of the spawnd workers', () => {
  const probe = fixture('exec-argv-probe.mjs')

  it("boot() works from `node --input-type=module -e`: the script's flags are dropped, the others kept", async () => {
    const script = `
      import { boot } from 'multikernel'
      const rt = await boot({ cores: 1, supervisor: { superviseCores: false } })
      const d = await rt.spawn(${JSON.stringify(probe.href)}, {
        env: { EXPECT: JSON.stringify(['--no-warnings', '--conditions=probe', '--enable-source-maps']) },
      })
      const r = await rt.wait(d)
      await rt.shutdown()
      console.log(JSON.stringify(r))
    `
    const out = await new Promise<{ err: Error | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [
            '--no-warnings',
            '--input-type=module',
            '--conditions=probe',
            '--inspect-port=0',
            '--enable-source-maps',
            '-e',
            script,
          ],
          { timeout: 60_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) },
          (err, stdout, stderr) => resolve({ err, stdout, stderr }),
        )
      },
    )
    expect(out.stderr).toBe('')
    expect(out.err).toBeNull()
    expect(JSON.parse(out.stdout.trim())).toMatchObject({ exitCode: 0, reason: 'exited' })
  }, 90_000)

  it('boot({ execArgv }) gives the workers exactly that list', async () => {
    const own = await within(
      boot({ cores: 1, execArgv: ['--no-deprecation'], supervisor: { superviseCores: false } }),
      'boot',
    )
    try {
      const d = await within(
        own.spawn(probe, { env: { EXPECT: JSON.stringify(['--no-deprecation']) } }),
        'spawn',
      )
      expect(await within(own.wait(d), 'wait')).toMatchObject({ exitCode: 0, reason: 'exited' })
    } finally {
      await within(own.shutdown(), 'shutdown')
    }
  })

  it('a flag Node refuses in a worker fails boot with INVALID_SPAWND, the flag named in the cause', async () => {
    const err = await within(
      boot({ cores: 2, execArgv: ['--expose-gc'] }).then(
        async (r) => {
          await r.shutdown()
          return null
        },
        (e: unknown) => e,
      ),
      'boot to fail',
    )
    expect(KernelError.is(err, 'INVALID_SPAWND')).toBe(true)
    expect(String((err as Error).cause)).toContain('--expose-gc')
  })
})
