// Misuse of the ring layer's public methods (issue 10, items 8-10): calls out of order,
// payloads that are not bytes, bounds that are not numbers, buffers that are not
// shared. Each is a clear error (RING_MISUSE, BAD_BUFFER, FRAME_TOO_LARGE, TypeError,
// RangeError), never a hang, a phantom frame or a corrupt one: after every refusal
// the ring still holds exactly what it accepted. Probes that used to freeze a thread
// run in a worker under a bound, so a regression fails instead of hanging the run.
import { afterEach, describe, expect, it } from 'vitest'
import {
  Channel,
  Doorbell,
  KernelError,
  MpmcRing,
  SpscRing,
  type KernelErrorCode,
} from 'multikernel/ring'
import { TestWorker, bounded, pattern, terminateAll, thrown } from './helpers.js'

/** Longest a probe may run before we call it a hang (a bound, not a speed test). */
const PROBE_MS = 10_000

function expectKernelError(fn: () => unknown, code: KernelErrorCode): KernelError {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(KernelError)
  expect(err).toMatchObject({ name: 'KernelError', code })
  return err as KernelError
}

function drain(c: { tryPop(): Uint8Array | null }): number[][] {
  const out: number[][] = []
  for (let f = c.tryPop(); f !== null; f = c.tryPop()) out.push(Array.from(f))
  return out
}

function mpmcPair(slots = 4, slotBytes = 16): { prod: MpmcRing; cons: MpmcRing } {
  const prod = MpmcRing.create({ slots, slotBytes })
  return { prod, cons: new MpmcRing(prod.buffer) }
}

interface ProbeResult {
  outcome: 'threw' | 'returned'
  name?: string
  code?: string
  message?: string
  value?: unknown
}

function probe(name: string): Promise<ProbeResult> {
  const w = new TestWorker<ProbeResult>('misuse-probe.mjs', { probe: name })
  return bounded(w.result, PROBE_MS, `probe '${name}' (a hang)`)
}

afterEach(terminateAll)

describe('MpmcRing: calls out of order', () => {
  it('release() before any poll() is RING_MISUSE; a later claim() and poll() work (was a freeze)', async () => {
    for (const [name, at] of [
      ['mpmc release before poll, then claim', 8],
      ['mpmc release before poll, then poll', -1],
    ] as const) {
      expect(await probe(name), name).toMatchObject({
        outcome: 'returned',
        value: { refused: 'RING_MISUSE', at },
      })
    }
    // The same, on this thread, now that it cannot freeze: refused, and the ring intact.
    const { prod, cons } = mpmcPair()
    expectKernelError(() => cons.release(), 'RING_MISUSE')
    expect(prod.tryPush(pattern(3, 1))).toBe(true)
    expect(drain(cons)).toEqual([Array.from(pattern(3, 1))])
  })

  it('a slot whose seq runs ahead of its position is BAD_BUFFER, not an endless retry', async () => {
    for (const name of [
      'mpmc slot seq ahead of the enqueue position',
      'mpmc slot seq ahead of the dequeue position',
    ]) {
      const r = await probe(name)
      expect(r, name).toMatchObject({ outcome: 'threw', name: 'KernelError', code: 'BAD_BUFFER' })
      expect(r.message).toContain('out of protocol')
    }
  })

  it('commit() without claim() is RING_MISUSE and publishes no phantom frame', () => {
    const { prod, cons } = mpmcPair()
    expectKernelError(() => prod.commit(), 'RING_MISUSE')
    expect(cons.poll()).toBe(-1)
    expect(prod.size()).toBe(0)
    // A producer that never claimed, beside one that did: still nothing phantom.
    expect(prod.tryPush(pattern(5, 2))).toBe(true)
    expectKernelError(() => new MpmcRing(prod.buffer).commit(), 'RING_MISUSE')
    expect(drain(cons)).toEqual([Array.from(pattern(5, 2))])
  })

  it('a second commit() of one claim is RING_MISUSE and cannot re-publish a consumed slot', () => {
    const { prod, cons } = mpmcPair(2)
    const at = prod.claim(2)
    prod.bytes.set([7, 7], at)
    prod.commit()
    expectKernelError(() => prod.commit(), 'RING_MISUSE')
    expect(drain(cons)).toEqual([[7, 7]])
    // Consumed and released: a stray second commit would have made that slot "ready" again.
    expectKernelError(() => prod.commit(), 'RING_MISUSE')
    expect(cons.poll()).toBe(-1)
    expect(prod.size()).toBe(0)
  })

  it('claim() while holding a claimed slot is RING_MISUSE; the held slot still commits', () => {
    const { prod, cons } = mpmcPair()
    const at = prod.claim(1)
    prod.bytes[at] = 42
    expectKernelError(() => prod.claim(1), 'RING_MISUSE')
    expectKernelError(() => prod.tryPush(Uint8Array.of(1)), 'RING_MISUSE')
    expect(prod.size()).toBe(1) // nothing claimed beyond the first
    prod.commit()
    expect(prod.tryPush(Uint8Array.of(43))).toBe(true)
    expect(drain(cons)).toEqual([[42], [43]])
  })

  it('poll() while holding a polled slot is RING_MISUSE; the held slot stays intact', () => {
    const { prod, cons } = mpmcPair()
    for (let i = 0; i < 3; i++) expect(prod.tryPush(Uint8Array.of(i, i))).toBe(true)
    const at = cons.poll()
    expectKernelError(() => cons.poll(), 'RING_MISUSE')
    expectKernelError(() => cons.tryPop(), 'RING_MISUSE')
    expect(Array.from(cons.bytes.subarray(at, at + cons.frameLength))).toEqual([0, 0])
    cons.release()
    expect(drain(cons)).toEqual([
      [1, 1],
      [2, 2],
    ])
  })

  it('a second release() is RING_MISUSE and cannot free a slot a later lap filled', () => {
    const { prod, cons } = mpmcPair(2)
    expect(prod.tryPush(Uint8Array.of(1))).toBe(true)
    cons.poll()
    cons.release()
    // Next lap of slot 0 (positions 2 and 0 share it with 2 slots): filled again.
    expect(prod.tryPush(Uint8Array.of(2))).toBe(true)
    expect(prod.tryPush(Uint8Array.of(3))).toBe(true)
    expectKernelError(() => cons.release(), 'RING_MISUSE')
    expect(prod.claim(0)).toBe(-1) // still full: no slot was handed back twice
    expect(drain(cons)).toEqual([[2], [3]])
  })
})

describe('payloads that are not a Uint8Array', () => {
  const notBytes: unknown[] = [
    'not bytes',
    [1, 2, 3],
    { length: 4 },
    new Int32Array(2),
    new DataView(new ArrayBuffer(8)),
    new ArrayBuffer(8),
    42,
    null,
    undefined,
  ]

  it('SpscRing.tryPush, MpmcRing.tryPush and Channel.send refuse them with TypeError, writing nothing', () => {
    const spsc = SpscRing.create(256)
    const mpmc = MpmcRing.create({ slots: 4 })
    const a = Channel.create({ capacity: 256 })
    const b = Channel.attach(a.buffer)
    const pushes: [string, (p: Uint8Array) => boolean][] = [
      ['SpscRing.tryPush', (p) => spsc.tryPush(p)],
      ['MpmcRing.tryPush', (p) => mpmc.tryPush(p)],
      ['Channel.send', (p) => a.send(p)],
    ]
    for (const [what, push] of pushes) {
      for (const bad of notBytes) {
        const err = thrown(() => push(bad as Uint8Array))
        expect(err, `${what}(${String(bad)})`).toBeInstanceOf(TypeError)
        expect((err as Error).message).toContain('Uint8Array')
      }
      // A Buffer is a Uint8Array: accepted.
      expect(push(Buffer.from([9, 8]))).toBe(true)
    }
    expect(drain(new SpscRing(spsc.buffer))).toEqual([[9, 8]])
    expect(drain(new MpmcRing(mpmc.buffer))).toEqual([[9, 8]])
    expect(drain({ tryPop: () => b.recv() })).toEqual([[9, 8]])
  })
})

describe('Doorbell', () => {
  it('refuses a buffer that is not shared (it could never wake another thread), like the rings', () => {
    const plain = new ArrayBuffer(64) as unknown as SharedArrayBuffer
    expectKernelError(() => new Doorbell(plain), 'BAD_BUFFER')
    expectKernelError(() => Doorbell.init(plain, 0), 'BAD_BUFFER')
    const view = new Uint8Array(new SharedArrayBuffer(64)) as unknown as SharedArrayBuffer
    expectKernelError(() => new Doorbell(view), 'BAD_BUFFER')
    // Offsets: negative, unaligned, past the end are RangeErrors; a good one attaches.
    const sab = new SharedArrayBuffer(128)
    for (const off of [-4, -64, 2, 65, 68, NaN]) {
      expect(() => new Doorbell(sab, off), `offset ${off}`).toThrow(RangeError)
    }
    expect(new Doorbell(sab, 64).byteOffset).toBe(64)
  })

  it('refuses a wait bound or spin that is not a number >= 0 (NaN used to mean for ever)', async () => {
    const r = await probe('doorbell waitSync with a NaN timeout')
    expect(r).toMatchObject({ outcome: 'threw', name: 'RangeError' })
    const bell = Doorbell.create()
    const never = (): boolean => false
    // On this thread only bounds that never blocked for long (NaN is the probe's).
    for (const ms of [-1, '5', null]) {
      expect(() => bell.waitSync(never, 0, ms as number), `timeout ${ms}`).toThrow(RangeError)
    }
    for (const ms of [NaN, -1, '5', null]) {
      const wait = bell.waitAsync(never, 0, ms as number)
      await expect(bounded(wait, PROBE_MS, `waitAsync(${ms})`)).rejects.toThrow(RangeError)
    }
    for (const spin of [NaN, -1, 'x']) {
      expect(() => bell.waitSync(never, spin as number, 0), `spin ${spin}`).toThrow(RangeError)
    }
    expect(() => bell.waitSync('ready' as unknown as () => boolean, 0, 0)).toThrow(TypeError)
    // Nothing was announced: no sleeper left behind, ringing costs no notify.
    expect(bell.hasSleepers()).toBe(false)
    expect(bell.sleeps).toBe(0)
    expect(bell.waitSync(never, 0, 0)).toBe(false)
    expect(bell.hasSleepers()).toBe(false)
  })

  it('a ready check that throws leaves no sleeper counted behind', async () => {
    const bell = Doorbell.create()
    const boom = (): boolean => {
      throw new Error('boom')
    }
    expect(() => bell.waitSync(boom, 0, 0)).toThrow('boom')
    expect(bell.hasSleepers()).toBe(false)
    await expect(bell.waitAsync(boom, 0, 0)).rejects.toThrow('boom')
    expect(bell.hasSleepers()).toBe(false)
    bell.ring()
    expect(bell.notifies).toBe(0)
  })
})

describe('Channel', () => {
  it('refuses a side other than a or b, and a spin that is not a number >= 0', () => {
    const a = Channel.create({ capacity: 64 })
    for (const side of ['c', 'A', '', undefined]) {
      expect(() => new Channel(a.buffer, side as 'a'), `side ${side}`).toThrow(TypeError)
    }
    for (const spin of [NaN, -1, 'x']) {
      expect(() => Channel.attach(a.buffer, { spin: spin as number })).toThrow(RangeError)
      expect(() => Channel.create({ capacity: 64, spin: spin as number })).toThrow(RangeError)
    }
    expect(Channel.attach(a.buffer, { spin: 0 }).spin).toBe(0)
  })

  it('waits refuse bounds that are not numbers >= 0, and lengths no frame can have', async () => {
    expect(await probe('channel waitReadable with a string timeout')).toMatchObject({
      outcome: 'threw',
      name: 'RangeError',
    })
    expect(await probe('channel waitWritable for a frame larger than the ring')).toMatchObject({
      outcome: 'threw',
      name: 'KernelError',
      code: 'FRAME_TOO_LARGE',
    })
    const a = Channel.create({ capacity: 64 })
    const b = Channel.attach(a.buffer)
    // Blocking waits on this thread only with a bound that never blocked (the probe
    // above has the ones that did); the async ones are bounded here.
    expect(() => a.waitReadable(-5)).toThrow(RangeError)
    expect(() => a.waitWritable(1, -5)).toThrow(RangeError)
    for (const ms of [NaN, -5, '1']) {
      const what = `timeout ${String(ms)}`
      await expect(bounded(a.readableAsync(ms as number), PROBE_MS, what)).rejects.toThrow(
        RangeError,
      )
      await expect(bounded(a.writableAsync(1, ms as number), PROBE_MS, what)).rejects.toThrow(
        RangeError,
      )
    }
    expectKernelError(() => a.waitWritable(57, 0), 'FRAME_TOO_LARGE')
    await expect(
      bounded(a.writableAsync(1 << 20), PROBE_MS, 'writableAsync of an impossible frame'),
    ).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' })
    for (const len of [-1, 1.5, NaN]) {
      await expect(a.writableAsync(len, 0)).rejects.toThrow(RangeError)
    }
    // The channel still works both ways.
    expect(a.send(pattern(4, 1))).toBe(true)
    expect(b.recv()).toEqual(pattern(4, 1))
    expect(await a.writableAsync(56, 0)).toBe(true)
  })
})

describe('ring buffers: init and attach', () => {
  it('init refuses a buffer that is not shared before writing into it; negative offsets are BAD_BUFFER', () => {
    const plain = new ArrayBuffer(4096)
    const asSab = plain as unknown as SharedArrayBuffer
    expectKernelError(() => SpscRing.init(asSab, 0, 64), 'BAD_BUFFER')
    expectKernelError(() => MpmcRing.init(asSab, 0, { slots: 4 }), 'BAD_BUFFER')
    expect(new Uint8Array(plain).every((x) => x === 0)).toBe(true)
    const spsc = SpscRing.create(64)
    expectKernelError(() => new SpscRing(spsc.buffer, -64), 'BAD_BUFFER')
    const mpmc = MpmcRing.create({ slots: 4 })
    expectKernelError(() => new MpmcRing(mpmc.buffer, -64), 'BAD_BUFFER')
    expect(() => SpscRing.init(new SharedArrayBuffer(4096), -64, 64)).toThrow(RangeError)
  })
})
