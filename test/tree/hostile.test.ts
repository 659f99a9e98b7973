// A hostile domain suite: authority is checked where requests enter the process
// manager (handles into the caller's own table), never granted by what a domain can
// name or make up; and nothing in a domain's realm leads to the rings.
import { MessageChannel, Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { boot, type BootOptions, type DomainCap, type Runtime } from 'multikernel'
import { Channel, Doorbell } from 'multikernel/ring'
import { Scratch, entry, fixture, within } from './helpers.js'

let rt: Runtime | undefined
let s: Scratch | undefined

async function start(opts: BootOptions = {}): Promise<{ rt: Runtime; s: Scratch }> {
  rt = await boot({ cores: 2, ...opts })
  s = new Scratch()
  return { rt, s }
}

afterEach(async () => {
  await rt?.shutdown()
  s?.cleanup()
  rt = undefined
  s = undefined
})

async function exited(r: Runtime, d: DomainCap): Promise<void> {
  const w = await within(r.wait(d), `domain ${d.id} to end`)
  expect(w).toMatchObject({ exitCode: 0, reason: 'exited' })
}

describe('a domain acts only through handles of its own table', () => {
  it('guessed handles and other domains ids are BAD_HANDLE; the victims are untouched', async () => {
    const { rt, s } = await start()
    const victims = [
      await rt.spawn(fixture('leaf.mjs'), { argv: ['sleep'], core: 0 }),
      await rt.spawn(fixture('leaf.mjs'), { argv: ['sleep'], core: 1 }),
    ]
    const h = await rt.spawn(fixture('hostile.mjs'), {
      argv: ['guess', ...victims.map((v) => String(v.id))],
      env: { OUT: s.path('out') },
    })
    await exited(rt, h)
    const r = s.read<{
      tries: Record<string, Record<string, string>>
      empty: { waitAny: string; children: unknown[]; handles: unknown[] }
      own: number
      withChild: Record<string, Record<string, string>>
    }>('out')!
    for (const [guess, codes] of Object.entries(r.tries)) {
      for (const [what, code] of Object.entries(codes)) {
        expect({ guess, what, code }).toEqual({ guess, what, code: 'BAD_HANDLE' })
      }
    }
    expect(Object.keys(r.tries)).toEqual(expect.arrayContaining(victims.map((v) => String(v.id))))
    expect(r.empty).toEqual({ waitAny: 'ECHILD', children: [], handles: [] })
    expect(r.own).toBe(0)
    for (const v of victims) {
      expect(r.withChild[v.id]).toEqual({
        kill: 'BAD_HANDLE',
        wait: 'BAD_HANDLE',
        status: 'BAD_HANDLE',
      })
      expect(rt.status(v)).toMatchObject({
        state: 'RUNNING',
        exitCode: null,
        cores: [v.id === victims[0].id ? 0 : 1],
      })
    }
  })

  it('a held handle to a domain that is not its child cannot be waited for (ECHILD)', async () => {
    const { rt, s } = await start()
    const p = await rt.spawn(fixture('hostile.mjs'), {
      argv: ['inherit'],
      env: { OUT: s.path('out') },
    })
    await exited(rt, p)
    expect(s.read('out')).toEqual({
      handles: [{ handle: 0, domainId: expect.any(Number) }],
      waitOne: 'ECHILD',
      waitOneNohang: 'ECHILD',
      waitAny: 'ECHILD',
      status: 'RUNNING',
    })
    expect(s.read('out.parent')).toMatchObject({
      exit: { exitCode: 0, reason: 'exited' },
      victimState: 'RUNNING',
    })
  })

  it('forged capabilities are TypeErrors, replayed (closed) handles BAD_HANDLE', async () => {
    const { rt, s } = await start()
    const victim = await rt.spawn(fixture('leaf.mjs'), { argv: ['sleep'] })
    const h = await rt.spawn(fixture('hostile.mjs'), {
      argv: ['forge'],
      // Even the victim's real capability, token and all, is no handle.
      env: { OUT: s.path('out'), CAP: JSON.stringify(victim) },
    })
    await exited(rt, h)
    const r = s.read<{
      forged: Record<string, string>
      replay: Record<string, string>
      childId: number
      children: number
    }>('out')!
    expect(r.forged).toEqual({
      killCap: 'TypeError',
      killIdToken: 'TypeError',
      killString: 'TypeError',
      statusObject: 'TypeError',
      waitNegative: 'TypeError',
      waitFraction: 'TypeError',
      spanNaN: 'TypeError',
      dupString: 'TypeError',
      closeNull: 'TypeError',
      spawnWithCap: 'TypeError',
      spawnWithBadHandle: 'BAD_HANDLE',
      huge: 'BAD_HANDLE',
    })
    expect(r.replay).toEqual({
      kill: 'BAD_HANDLE',
      wait: 'BAD_HANDLE',
      status: 'BAD_HANDLE',
      close: 'BAD_HANDLE',
      dup: 'BAD_HANDLE',
      viaDup: 'RUNNING',
    })
    // Refused spawns made no child; the replayed kill touched nobody.
    expect(r.children).toBe(1)
    expect(rt.status(victim).state).toBe('RUNNING')
    // Its own child is an orphan now (its parent ended), still running.
    expect(entry(rt, r.childId)).toMatchObject({ state: 'RUNNING', parent: h.id })
  })

  it('cannot exceed its handle table (HANDLE_TABLE_FULL), and no child is half-made', async () => {
    const { rt, s } = await start({ maxHandles: 8 })
    const h = await rt.spawn(fixture('hostile.mjs'), {
      argv: ['table'],
      env: { OUT: s.path('out') },
    })
    await exited(rt, h)
    expect(s.read('out')).toEqual({
      spawned: [0, 1, 2, 3, 4, 5, 6, 7],
      refusal: 'HANDLE_TABLE_FULL',
      children: 8,
      dup: 'HANDLE_TABLE_FULL',
      handles: 8,
    })
    expect(rt.domains().filter((d) => d.parent === h.id)).toHaveLength(8)
  })
})

describe('spawn bombs stop at the limits (maxChildren 10, maxDepth 4)', () => {
  const limits = { maxChildren: 10, maxDepth: 4 }

  it('width: one by one, the eleventh child is SPAWN_LIMIT', async () => {
    const { rt, s } = await start(limits)
    const b = await rt.spawn(fixture('bomb.mjs'), {
      argv: ['width-seq'],
      env: { OUT: s.path('out') },
    })
    await exited(rt, b)
    const r = s.read<{ codes: string[]; children: number }>('out')!
    expect(r.codes).toEqual([...Array<string>(10).fill('ok'), 'SPAWN_LIMIT'])
    expect(r.children).toBe(10)
  })

  it('width: spawns asked all at once are counted while in flight', async () => {
    const { rt, s } = await start(limits)
    const b = await rt.spawn(fixture('bomb.mjs'), {
      argv: ['width-burst', '25'],
      env: { OUT: s.path('out') },
    })
    await exited(rt, b)
    const r = s.read<{ codes: string[]; children: number }>('out')!
    expect(r.codes.filter((c) => c === 'ok')).toHaveLength(10)
    expect(r.codes.filter((c) => c === 'SPAWN_LIMIT')).toHaveLength(15)
    expect(r.children).toBe(10)
    expect(rt.domains().filter((d) => d.parent === b.id)).toHaveLength(10)
  })

  it('depth: a recursive bomb stops at depth 4, every level refused below it', async () => {
    const { rt, s } = await start(limits)
    const b = await rt.spawn(fixture('bomb.mjs'), {
      argv: ['depth', '2'],
      env: { LOG: s.path('log') },
    })
    await exited(rt, b)
    const log = s.lines<{ id: number; depth: number; codes: string[] }>('log')
    // A binary tree four levels deep: 1 + 2 + 4 + 8 domains, no more.
    expect(log).toHaveLength(15)
    for (const l of log) {
      expect(l.codes).toEqual(l.depth < 4 ? ['ok', 'ok'] : ['SPAWN_LIMIT', 'SPAWN_LIMIT'])
    }
    expect(log.filter((l) => l.depth === 4)).toHaveLength(8)
  })
})

describe('the rings are out of reach', () => {
  it('workerData is empty in a domain: no SharedArrayBuffer anywhere in it or in ctx', async () => {
    const { rt, s } = await start()
    const d = await rt.spawn(fixture('hostile.mjs'), {
      argv: ['rings'],
      env: { OUT: s.path('out') },
    })
    await exited(rt, d)
    const r = s.read<Record<string, unknown>>('out')!
    expect(r).toMatchObject({
      isMainThread: false,
      workerDataKeys: [],
      sharedInWorkerData: [],
      sharedInCtx: [],
    })
  })

  /** Six int32 words (op, tag, token, domainId, value, textLen), then the text. */
  function sendFrame(ch: Channel, w: number[], text = ''): void {
    const bytes = new TextEncoder().encode(text)
    const at = ch.reserve(24 + bytes.length)
    if (at < 0) throw new Error('request ring full')
    const i32 = ch.tx.i32
    for (let k = 0; k < 5; k++) i32[(at >> 2) + k] = w[k]
    i32[(at >> 2) + 5] = bytes.length
    ch.tx.bytes.set(bytes, at + 24)
    ch.flush()
  }

  async function readFrame(ch: Channel): Promise<{ words: number[]; text: string }> {
    if (!(await ch.readableAsync(10_000))) throw new Error('no reply from the spawnd')
    const at = ch.poll()
    const words = Array.from({ length: 6 }, (_, k) => ch.rx.i32[(at >> 2) + k])
    const text = new TextDecoder().decode(ch.rx.bytes.slice(at + 24, at + 24 + words[5]))
    ch.release()
    return { words, text }
  }

  it('a raw frame without the process manager token is refused NOT_PROC_MNGR', async () => {
    const OP_PING = 1
    const OP_SPAWN = 2
    const OP_STATUS = 6
    const OP_SHUTDOWN = 7
    const OP_REPLY = 16
    // The wire index of NOT_PROC_MNGR in src/protocol/errcodes.ts (WIRE list, 0 = OK).
    const NOT_PROC_MNGR = 8
    const TOKEN = 1234
    const ch = Channel.create()
    const bell = Doorbell.create()
    // The monitor port a spawnd is booted with (session channels come by it).
    const monitor = new MessageChannel()
    const worker = new Worker(new URL('../../dist/workers/spawnd.js', import.meta.url), {
      workerData: {
        core: 0,
        channel: ch.buffer,
        mainBell: bell.buffer,
        mainBellOffset: 0,
        token: TOKEN,
        maxDispatchers: 8,
        spin: 0,
        monitor: monitor.port2,
      },
      transferList: [monitor.port2],
    })
    const exit = new Promise<number>((resolve) => worker.once('exit', resolve))
    try {
      // A ping pretending to be the process manager, with a wrong token.
      sendFrame(ch, [OP_PING, 11, TOKEN + 1, 0, 77])
      const bad = await readFrame(ch)
      expect(bad.words.slice(0, 2)).toEqual([OP_REPLY, 11])
      expect(bad.words[2]).not.toBe(0)
      expect(bad.words[2]).toBe(NOT_PROC_MNGR)
      // A forged spawn and a forged shutdown are refused the same way and do nothing.
      sendFrame(
        ch,
        [OP_SPAWN, 12, 0, 99, 0],
        JSON.stringify({ url: fixture('leaf.mjs').href, argv: ['sleep'], env: {} }),
      )
      expect((await readFrame(ch)).words.slice(0, 3)).toEqual([OP_REPLY, 12, NOT_PROC_MNGR])
      sendFrame(ch, [OP_SHUTDOWN, 13, -1, 0, 0])
      expect((await readFrame(ch)).words.slice(0, 3)).toEqual([OP_REPLY, 13, NOT_PROC_MNGR])
      // The same ping with the right token: OK, the value echoed.
      sendFrame(ch, [OP_PING, 14, TOKEN, 0, 77])
      const ok = await readFrame(ch)
      expect(ok.words.slice(0, 5)).toEqual([OP_REPLY, 14, 0, 0, 77])
      // Its dispatcher table is empty: the forged spawn started nothing.
      sendFrame(ch, [OP_STATUS, 15, TOKEN, 0, 0])
      const ps = await readFrame(ch)
      expect(ps.words.slice(0, 3)).toEqual([OP_REPLY, 15, 0])
      expect(JSON.parse(ps.text)).toEqual([])
      sendFrame(ch, [OP_SHUTDOWN, 16, TOKEN, 0, 0])
      expect((await readFrame(ch)).words.slice(0, 3)).toEqual([OP_REPLY, 16, 0])
      await within(exit, 'spawnd worker ends after its shutdown')
    } finally {
      ch.close()
      await worker.terminate()
    }
  })
})
