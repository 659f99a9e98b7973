// Routing and labels (issue 12, items 2 and 6): the only server by default, routes
// by client label (exact or prefix) to a server's label, SERVICE_DENIED for none or
// an ambiguous choice; labels composed "parent -> child -> label" by the process
// manager, so a domain cannot forge one; sessions are capabilities in the client's
// handle table: listed, passed to a child at spawn, useless to anyone else.
import { afterEach, describe, expect, it } from 'vitest'
import { boot, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'
import { fixture, scripts } from './domains.js'

let rt: Runtime

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

/** Two main-thread servers of 'db' under the labels 'a' and 'b' is not allowed (one per
 * domain), so the servers here are domains; the main thread serves 'who' for contrast. */
async function dbServer(label: string): Promise<void> {
  await rt.spawn(fixture('kv_server.mjs'), { argv: ['db'], label })
}

async function reach(opts: { label?: string } = {}): Promise<{ domainId: number; label: string }> {
  for (let i = 0; ; i++) {
    try {
      const s = await rt.session('db', opts)
      const who = (await s.call('whoami')) as { domainId: number; label: string }
      await s.close()
      return who
    } catch (err) {
      if (i > 400) throw err
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}

describe('routing', () => {
  it('the only server of a name serves by default; two and no route is SERVICE_DENIED', async () => {
    rt = await boot({ cores: 2 })
    await dbServer('a')
    const first = await reach()
    await dbServer('b')
    // Wait until the second serves too, then an open has no choice to make.
    for (let i = 0; i < 400; i++) {
      const err = await rt.session('db').then(
        async (s) => {
          await s.close()
          return null
        },
        (e: unknown) => e,
      )
      if (err !== null) {
        expect(err).toMatchObject({ code: 'SERVICE_DENIED' })
        expect(String((err as Error).message)).toMatch(/2 servers/)
        return
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error(`never ambiguous (first: ${first.domainId})`)
  })

  it('routes by exact label and by prefix to the server with that label', async () => {
    rt = await boot({
      cores: 2,
      routes: [
        { service: 'db', label: 'admin', server: 'b' },
        { service: 'db', labelPrefix: 'app', server: 'a' },
      ],
    })
    await dbServer('a')
    await dbServer('b')
    const viaAdmin = await reach({ label: 'admin' })
    const viaApp = await reach({ label: 'app -> x' })
    expect(viaAdmin.domainId).not.toBe(viaApp.domainId)
    expect(viaAdmin.label).toBe('admin')
    // No route matches 'other' and two serve: denied.
    await expect(rt.session('db', { label: 'other' })).rejects.toMatchObject({
      code: 'SERVICE_DENIED',
    })
    // A route to a server label nobody has is denied too.
    rt.route({ service: 'db', label: 'ghost', server: 'nobody' })
    await expect(rt.session('db', { label: 'ghost' })).rejects.toMatchObject({
      code: 'SERVICE_DENIED',
    })
  })

  it('bad routes are refused at once', async () => {
    rt = await boot({ cores: 1 })
    expect(() => rt.route({ service: '', server: 'x' })).toThrow(TypeError)
    expect(() => rt.route({ service: 'x' } as never)).toThrow(TypeError)
    expect(() => rt.route({ service: 'x', server: 'y', label: 'a', labelPrefix: 'b' })).toThrow(
      TypeError,
    )
    await expect(boot({ cores: 1, routes: [{ nope: 1 }] as never })).rejects.toBeInstanceOf(
      TypeError,
    )
  })
})

describe('labels', () => {
  it('a domain cannot forge its label: its identity always comes first', async () => {
    rt = await boot({
      cores: 2,
      routes: [{ service: 'db', label: 'admin', server: 'b' }],
    })
    await dbServer('b')
    await reach({ label: 'admin' })
    const sc = scripts(rt)
    const run = await sc.run(
      [
        { op: 'session', name: 'db', opts: { label: 'admin' }, as: 's' },
        { op: 'call', s: 's', method: 'whoami' },
      ],
      { label: 'evil' },
    )
    // 'evil -> admin' matches no route; one server: it gets there, but never as 'admin'.
    expect((await run.step(0)).value).toMatchObject({ label: 'evil -> admin' })
    expect((await run.step(1)).value).toMatchObject({ label: 'evil -> admin' })
  })

  it('a child of a domain is labelled parent -> child -> label', async () => {
    rt = await boot({ cores: 2 })
    rt.serve('who', { open: (req) => ({ label: () => req.label }) })
    const sc = scripts(rt)
    const inner = [
      { op: 'session', name: 'who', opts: { label: 'q' }, as: 'w' },
      { op: 'call', s: 'w', method: 'label' },
    ]
    const run = await sc.run(
      [
        {
          op: 'spawn',
          program: './script.mjs',
          as: 'kid',
          opts: { label: 'kid', argv: [JSON.stringify(inner)] },
        },
        { op: 'wait', child: 'kid' },
      ],
      { label: 'app' },
    )
    await run.step(1)
    const kidSteps = sc.steps.filter((s) => s.domainId !== run.d.id)
    expect(kidSteps.find((s) => s.step === 1)?.value).toBe('app -> kid -> q')
  })
})

describe('sessions are capabilities', () => {
  it('listed in ctx.handles(), moved to a child at spawn, attached there; a made-up handle is refused', async () => {
    rt = await boot({ cores: 2 })
    let n = 0
    rt.serve('counter', { open: () => ({ inc: () => ++n }) })
    const sc = scripts(rt)
    const inner = [
      { op: 'handles' },
      { op: 'attach', handle: 0, as: 'c' },
      { op: 'call', s: 'c', method: 'inc' },
      { op: 'close', s: 'c' },
    ]
    const run = await sc.run([
      { op: 'session', name: 'counter', as: 'c' },
      { op: 'call', s: 'c', method: 'inc' },
      { op: 'handles' },
      { op: 'useHandle', handle: 7 },
      {
        op: 'spawn',
        program: './script.mjs',
        as: 'kid',
        pass: ['c'],
        opts: { argv: [JSON.stringify(inner)] },
      },
      { op: 'handles' },
      { op: 'wait', child: 'kid' },
    ])
    const opened = (await run.step(0)).value as { handle: number }
    expect((await run.step(2)).value).toContainEqual({
      handle: opened.handle,
      sessionId: expect.any(Number),
    })
    expect(await run.step(3)).toMatchObject({ ok: false, code: 'BAD_HANDLE' })
    await run.step(6)
    // The parent's slot is gone (the session moved); the child got it as its slot 0.
    const parentAfter = (await run.step(5)).value as { handle: number; sessionId?: number }[]
    expect(parentAfter.some((h) => h.handle === opened.handle && h.sessionId !== undefined)).toBe(
      false,
    )
    const kid = sc.steps.filter((s) => s.domainId !== run.d.id)
    expect(kid.find((s) => s.step === 2)?.value).toBe(2)
    expect(kid.find((s) => s.step === 3)?.ok).toBe(true)
    expect(n).toBe(2)
  })
})
