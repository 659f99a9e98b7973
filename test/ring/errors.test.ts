// Bad input: every refusal is a clear error of the right kind, and the ring still
// holds exactly the frames it accepted before (checked by popping everything).
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_VERSION,
  Channel,
  KernelError,
  MpmcRing,
  SpscRing,
  type KernelErrorCode,
} from 'multikernel/ring'
import { copySab, pattern, thrown } from './helpers.js'

/** `fn` throws a KernelError with `code` (its message names the code too). */
function expectKernelError(fn: () => unknown, code: KernelErrorCode): KernelError {
  const err = thrown(fn)
  expect(err).toBeInstanceOf(KernelError)
  expect(err).toMatchObject({ name: 'KernelError', code })
  expect((err as KernelError).message).toContain(code)
  return err as KernelError
}

/** Pop every frame of an SPSC consumer: their bytes, in order. */
function drainSpsc(c: SpscRing): number[][] {
  const out: number[][] = []
  for (let f = c.tryPop(); f !== null; f = c.tryPop()) out.push(Array.from(f))
  return out
}

function drainMpmc(c: MpmcRing): number[][] {
  const out: number[][] = []
  for (let f = c.tryPop(); f !== null; f = c.tryPop()) out.push(Array.from(f))
  return out
}

const accepted = [pattern(3, 1), pattern(0, 2), pattern(20, 3)]
const acceptedArrays = accepted.map((a) => Array.from(a))
const badLengths = [-1, -8, 1.5, 0.1, -0.5, NaN, Infinity, -Infinity]

describe('frame lengths', () => {
  it('SpscRing: too large is FRAME_TOO_LARGE, negative or fractional is RangeError; contents kept', () => {
    const p = SpscRing.create(128)
    const c = new SpscRing(p.buffer)
    for (const a of accepted) expect(p.tryPush(a)).toBe(true)
    // One more reserved, filled but unpublished, across the refusals: a refusal must
    // not publish it, lose it, or move the tail.
    const at = p.reserve(2)
    p.bytes.set([9, 9], at)
    for (const len of [121, 128, 129, 1 << 20, 2 ** 32, 2 ** 40]) {
      expectKernelError(() => p.reserve(len), 'FRAME_TOO_LARGE')
    }
    expectKernelError(() => p.tryPush(new Uint8Array(200)), 'FRAME_TOO_LARGE')
    for (const len of badLengths) expect(() => p.reserve(len)).toThrow(RangeError)
    expect(() => p.canReserve(-1)).not.toThrow() // a query, not a refusal
    expect(drainSpsc(c)).toEqual(acceptedArrays)
    p.publish()
    expect(drainSpsc(c)).toEqual([[9, 9]])
    // The largest legal frame still goes in (second try: it needs offset 0, behind
    // a wrap marker the consumer must pass first).
    expect(p.tryPush(pattern(p.maxPayload, 7))).toBe(false)
    expect(c.tryPop()).toBeNull()
    expect(p.tryPush(pattern(p.maxPayload, 7))).toBe(true)
    expect(drainSpsc(c)).toEqual([Array.from(pattern(120, 7))])
  })

  it('MpmcRing: the same for claim()', () => {
    const p = MpmcRing.create({ slots: 8, slotBytes: 32 })
    const c = new MpmcRing(p.buffer)
    for (const a of accepted) expect(p.tryPush(a)).toBe(true)
    for (const len of [25, 32, 1 << 20]) expectKernelError(() => p.claim(len), 'FRAME_TOO_LARGE')
    expectKernelError(() => p.tryPush(new Uint8Array(25)), 'FRAME_TOO_LARGE')
    for (const len of badLengths) expect(() => p.claim(len)).toThrow(RangeError)
    expect(p.size()).toBe(3)
    expect(drainMpmc(c)).toEqual(acceptedArrays)
    expect(p.tryPush(pattern(24, 7))).toBe(true)
    expect(drainMpmc(c)).toEqual([Array.from(pattern(24, 7))])
  })

  it('Channel: the same for send() and reserve()', () => {
    const a = Channel.create({ capacity: 64 })
    const b = Channel.attach(a.buffer)
    for (const x of accepted) expect(a.send(x)).toBe(true)
    expectKernelError(() => a.send(new Uint8Array(57)), 'FRAME_TOO_LARGE')
    expectKernelError(() => a.reserve(1000), 'FRAME_TOO_LARGE')
    for (const len of badLengths) expect(() => a.reserve(len)).toThrow(RangeError)
    const got: number[][] = []
    for (let f = b.recv(); f !== null; f = b.recv()) got.push(Array.from(f))
    expect(got).toEqual(acceptedArrays)
  })
})

describe('capacities', () => {
  const badCapacities = [0, -64, 3, 48, 100, 1000, 1.5, NaN, Infinity]

  it('SpscRing.create refuses zero, negative, fractional and non-power-of-two capacities', () => {
    for (const cap of [...badCapacities, 8, 2 ** 31]) {
      expect(() => SpscRing.create(cap), `capacity ${cap}`).toThrow(RangeError)
    }
    expect(SpscRing.create(16).maxPayload).toBe(8)
  })

  it('MpmcRing.create refuses bad slot counts and slot sizes', () => {
    for (const slots of [...badCapacities, 1]) {
      expect(() => MpmcRing.create({ slots }), `slots ${slots}`).toThrow(RangeError)
    }
    for (const slotBytes of [0, 8, 12, 20, 63, 1.5, -64]) {
      expect(() => MpmcRing.create({ slots: 4, slotBytes }), `slotBytes ${slotBytes}`).toThrow(
        RangeError,
      )
    }
    expect(MpmcRing.create({ slots: 2, slotBytes: 16 }).maxPayload).toBe(8)
  })

  it('Channel.create refuses bad capacities in either direction', () => {
    for (const capacity of [...badCapacities, 8]) {
      expect(() => Channel.create({ capacity }), `capacity ${capacity}`).toThrow(RangeError)
      expect(() => Channel.create({ capacity: 64, replyCapacity: capacity })).toThrow(RangeError)
    }
  })
})

describe('attaching', () => {
  it('refuses anything but a SharedArrayBuffer', () => {
    const plain = new ArrayBuffer(4096) as unknown as SharedArrayBuffer
    expectKernelError(() => new SpscRing(plain), 'BAD_BUFFER')
    expectKernelError(() => new MpmcRing(plain), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(plain), 'BAD_BUFFER')
    const notBuffer = new Uint8Array(4096) as unknown as SharedArrayBuffer
    expectKernelError(() => Channel.attach(notBuffer), 'BAD_BUFFER')
  })

  it('refuses a buffer with no magic (zeros, or a ring of the other kind)', () => {
    const zeros = new SharedArrayBuffer(4096)
    expectKernelError(() => new SpscRing(zeros), 'BAD_BUFFER')
    expectKernelError(() => new MpmcRing(zeros), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(zeros), 'BAD_BUFFER')
    const spsc = SpscRing.create(1024).buffer
    const mpmc = MpmcRing.create({ slots: 16 }).buffer
    expectKernelError(() => new MpmcRing(spsc), 'BAD_BUFFER')
    expectKernelError(() => new SpscRing(mpmc), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(spsc), 'BAD_BUFFER')
  })

  it('refuses a header of another version, and attaches once it is set back', () => {
    const cases: [SharedArrayBuffer, () => unknown][] = []
    const spsc = SpscRing.create(64).buffer
    cases.push([spsc, () => new SpscRing(spsc)])
    const mpmc = MpmcRing.create({ slots: 4 }).buffer
    cases.push([mpmc, () => new MpmcRing(mpmc)])
    const ch = Channel.create({ capacity: 64 }).buffer
    cases.push([ch, () => Channel.attach(ch)])
    for (const [sab, attach] of cases) {
      const header = new Int32Array(sab, 0, 2) // [0] magic, [1] version
      expect(header[1]).toBe(1)
      for (const version of [0, 2, -1]) {
        header[1] = version
        expect(expectKernelError(attach, 'BAD_BUFFER').message).toContain(`version ${version}`)
      }
      header[1] = 1
      expect(attach).not.toThrow()
    }
    expect(CHANNEL_VERSION).toBe(1)
  })

  it('refuses a channel buffer copied into a buffer of another size; the original still works', () => {
    const a = Channel.create({ capacity: 64, replyCapacity: 128 })
    for (const x of accepted) expect(a.send(x)).toBe(true)
    const size = a.buffer.byteLength
    expect(size).toBe(Channel.byteLength(64, 128))
    expectKernelError(() => Channel.attach(a.buffer.slice(0, size - 64)), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(copySab(a.buffer, size + 64)), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(copySab(a.buffer, size * 2)), 'BAD_BUFFER')
    expectKernelError(() => Channel.attach(a.buffer.slice(0, 64)), 'BAD_BUFFER')
    // A same-size copy attaches (so it is the size that was refused) and holds the frames.
    const copy = Channel.attach(copySab(a.buffer, size))
    expect(Array.from(copy.recv() ?? [])).toEqual(acceptedArrays[0])
    const b = Channel.attach(a.buffer)
    const got: number[][] = []
    for (let f = b.recv(); f !== null; f = b.recv()) got.push(Array.from(f))
    expect(got).toEqual(acceptedArrays)
  })

  it('refuses rings whose header names a size their buffer cannot hold', () => {
    const p = SpscRing.create(1024)
    expect(p.tryPush(accepted[2])).toBe(true)
    expectKernelError(() => new SpscRing(p.buffer.slice(0, 192 + 512)), 'BAD_BUFFER')
    expectKernelError(() => new SpscRing(p.buffer, 32), 'BAD_BUFFER') // not 64-aligned
    expectKernelError(() => new SpscRing(p.buffer, 1024), 'BAD_BUFFER') // no ring there
    const m = MpmcRing.create({ slots: 8, slotBytes: 64 })
    expectKernelError(() => new MpmcRing(m.buffer.slice(0, 192 + 7 * 64)), 'BAD_BUFFER')
    // The originals are untouched and still attach.
    expect(drainSpsc(new SpscRing(p.buffer))).toEqual([acceptedArrays[2]])
    expect(new MpmcRing(m.buffer).slots).toBe(8)
  })

  it('refuses an MPMC header of one slot (a one-slot ring overwrites its frame)', () => {
    const sab = MpmcRing.create({ slots: 2, slotBytes: 16 }).buffer
    new Int32Array(sab, 0, 3)[2] = 1 // [2] slot count
    expectKernelError(() => new MpmcRing(sab), 'BAD_BUFFER')
  })

  it('refuses a channel whose header names impossible ring sizes, keeping the cause', () => {
    const sab = Channel.create({ capacity: 64 }).buffer
    const header = new Int32Array(sab, 0, 5) // [2] capacity A->B, [3] capacity B->A
    header[2] = 3
    const err = expectKernelError(() => Channel.attach(sab), 'BAD_BUFFER')
    expect(err.cause).toBeInstanceOf(RangeError)
    expect(KernelError.is(err, 'BAD_BUFFER')).toBe(true)
    header[2] = 64
    header[3] = 128 // a valid size, but not this buffer's
    expectKernelError(() => Channel.attach(sab), 'BAD_BUFFER')
  })

  it('refuses a channel whose inner ring was overwritten', () => {
    const sab = Channel.create({ capacity: 64 }).buffer
    new Int32Array(sab, 320, 1)[0] = 0 // magic of ring A->B (rings start at +320)
    expectKernelError(() => Channel.attach(sab), 'BAD_BUFFER')
  })
})

describe('closed channels', () => {
  it('refuse send and reserve with CHANNEL_CLOSED on both sides; published frames stay', async () => {
    const a = Channel.create({ capacity: 128 })
    const b = Channel.attach(a.buffer)
    for (const x of accepted) expect(a.send(x)).toBe(true)
    expect(b.send(pattern(5, 9))).toBe(true)
    b.close()
    b.close() // idempotent
    expect(a.closed && b.closed).toBe(true)
    for (const side of [a, b]) {
      expectKernelError(() => side.send(pattern(1, 1)), 'CHANNEL_CLOSED')
      expectKernelError(() => side.reserve(1), 'CHANNEL_CLOSED')
      // Closed and too large: CHANNEL_CLOSED comes first (nothing is accepted at all).
      expectKernelError(() => side.reserve(1 << 20), 'CHANNEL_CLOSED')
    }
    // Frames published before the close are still readable, then readable is false.
    const got: number[][] = []
    while (await b.readableAsync(1000)) {
      const f = b.recv() // null if only a wrap marker was left: none here, but harmless
      if (f !== null) got.push(Array.from(f))
    }
    expect(got).toEqual(acceptedArrays)
    expect(await a.readableAsync(1000)).toBe(true)
    expect(a.recv()).toEqual(pattern(5, 9))
    expect(await a.readableAsync(1000)).toBe(false)
    expect(await a.writableAsync(1, 1000)).toBe(false)
  })
})
