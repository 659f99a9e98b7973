// The one frame sender of both ends of a channel, and the one error codec: frames
// queue in order behind a full ring, an oversized request is refused, an oversized
// answer is replaced by a FRAME_TOO_LARGE error, and errors keep their cause chain.
import { describe, expect, it } from 'vitest'
import { Doorbell, SpscRing } from '../../dist/src/ring/index.js'
import { KernelError } from '../../dist/src/errors.js'
import { FrameSender } from '../../dist/src/protocol/sender.js'
import { frameHeader, readHeader, readText, wellFormed } from '../../dist/src/protocol/frame.js'
import { decodeError, encodeError } from '../../dist/src/protocol/error_text.js'
import { errFromWire } from '../../dist/src/protocol/errcodes.js'

function drain(ring: SpscRing): { value: number; aux: number; text: string | null }[] {
  const out: { value: number; aux: number; text: string | null }[] = []
  const h = frameHeader()
  for (let at = ring.poll(); at >= 0; at = ring.poll()) {
    expect(wellFormed(ring, at)).toBe(true)
    readHeader(ring, at, h)
    out.push({ value: h.value, aux: h.aux, text: readText(ring, at) })
  }
  ring.release()
  return out
}

describe('FrameSender', () => {
  it('queues behind a full ring in order, publishes only on flush', () => {
    const ring = SpscRing.create(256)
    const sender = new FrameSender(ring, Doorbell.create())
    const h = frameHeader()
    for (let i = 0; i < 40; i++) {
      h.value = i
      sender.send(h, i % 3 === 0 ? `text ${i}` : null)
    }
    expect(sender.backlog).toBeGreaterThan(0)
    expect(ring.poll()).toBe(-1)
    const seen: number[] = []
    for (let round = 0; round < 100 && seen.length < 40; round++) {
      sender.flush()
      for (const f of drain(ring)) {
        expect(f.text).toBe(f.value % 3 === 0 ? `text ${f.value}` : null)
        seen.push(f.value)
      }
    }
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(sender.backlog).toBe(0)
  })

  it('refuses a frame that can never fit, queueing nothing; replaces such an answer', () => {
    const ring = SpscRing.create(256)
    const sender = new FrameSender(ring, Doorbell.create())
    const h = frameHeader()
    expect(() => sender.send(h, 'x'.repeat(1000))).toThrow(
      expect.objectContaining({ code: 'FRAME_TOO_LARGE' }),
    )
    sender.flush()
    expect(drain(ring)).toEqual([])
    h.aux = 0
    sender.answer(h, 'y'.repeat(1000), 'aux')
    sender.flush()
    const [f] = drain(ring)
    expect(errFromWire(f.aux)).toBe('FRAME_TOO_LARGE')
    expect(decodeError('FRAME_TOO_LARGE', f.text).code).toBe('FRAME_TOO_LARGE')
  })
})

describe('encodeError / decodeError', () => {
  it('keep the cause chain across the wire, for a KernelError and a foreign error', () => {
    const root = new TypeError('root cause')
    const sent = new KernelError('LOAD', 'outer', { cause: root })
    const same = decodeError('LOAD', encodeError(sent), 'spawn x')
    expect(same.message).toBe('LOAD: spawn x: outer')
    expect((same.cause as Error).message).toBe('root cause')
    const foreign = decodeError('PROTOCOL', encodeError(root))
    expect(foreign.message).toBe('PROTOCOL: root cause')
    expect((foreign.cause as Error).name).toBe('TypeError')
    expect(decodeError('DOMAIN_NOTFOUND', 'plain words', 'kill').message).toBe(
      'DOMAIN_NOTFOUND: kill: plain words',
    )
  })
})
