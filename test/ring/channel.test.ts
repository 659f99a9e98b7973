// Channels: created on the main thread, attached in a worker from the shared buffer;
// a duplex echo; close from either side releases a sleeper on the other; frames
// published before close stay readable. The main thread only ever waits async.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Channel, KernelError, frameBytes } from 'multikernel/ring'
import {
  TEST_MS,
  TestWorker,
  WAIT_MS,
  bounded,
  pattern,
  sameBytes,
  terminateAll,
  until,
  watching,
} from './helpers.js'

afterEach(terminateAll)

interface CloseReport {
  readable?: boolean
  writable?: boolean
  closed: boolean
  sent?: number
  sleeps?: number
  sendError?: string
  reserveError?: string
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err instanceof KernelError ? err.code : String(err)
  }
}

describe('Channel on one thread', () => {
  it('side B sees what A sends and A what B sends; the two directions may differ in size', () => {
    const a = Channel.create({ capacity: 64, replyCapacity: 128 })
    const b = Channel.attach(a.buffer)
    expect([a.side, b.side]).toEqual(['a', 'b'])
    expect(a.buffer.byteLength).toBe(Channel.byteLength(64, 128))
    expect([a.tx.maxPayload, b.tx.maxPayload]).toEqual([56, 120])
    expect(a.send(pattern(56, 1))).toBe(true)
    expect(b.send(pattern(120, 2))).toBe(true)
    expect(b.recv()).toEqual(pattern(56, 1))
    expect(a.recv()).toEqual(pattern(120, 2))
    expect(a.recv()).toBeNull()
    expect(b.recv()).toBeNull()
  })

  it('send/recv deliver a maxPayload frame at any offset (a refused send publishes its wrap marker)', () => {
    // Regression: send() used to leave the wrap marker of a refused frame unpublished
    // and recv() left a skipped marker unreleased, so the frame could never fit.
    const a = Channel.create({ capacity: 64 })
    const b = Channel.attach(a.buffer)
    for (let offset = 8; offset < 64; offset += 8) {
      expect(a.send(new Uint8Array(offset - 8))).toBe(true)
      expect(b.recv()?.length).toBe(offset - 8)
      const big = pattern(56, offset)
      expect(a.send(big)).toBe(false)
      expect(b.recv()).toBeNull() // passes the marker and hands its bytes back
      expect(a.send(big)).toBe(true)
      expect(b.recv()).toEqual(big)
      // The big frame filled the whole ring, so the next round starts at offset 0.
      expect(a.tx.usedBytes()).toBe(0)
    }
    expect(frameBytes(56)).toBe(64)
  })
})

describe('Channel across threads', () => {
  it('duplex echo: 20,000 frames of every size, through a worker that attached side B', async () => {
    const n = 20_000
    // Equal capacities, so maxPayload frames need offset 0 in both directions.
    const ch = Channel.create({ capacity: 256, spin: 16 })
    const echo = new TestWorker<{ echoed: number }>('echo.mjs', {
      sab: ch.buffer,
      spin: 16,
      waitMs: WAIT_MS,
    })
    const sizeOf = (i: number): number => (i * 7919) % (ch.tx.maxPayload + 1)
    const run = async (): Promise<void> => {
      let sent = 0
      let received = 0
      while (received < n) {
        // Send what fits; a refused send leaves the frame for the next pass.
        while (sent < n && ch.send(pattern(sizeOf(sent), sent))) sent++
        let progressed = false
        for (let got = ch.recv(); got !== null; got = ch.recv()) {
          const want = pattern(sizeOf(received), received).map((x) => x ^ 0xa5)
          if (!sameBytes(got, want)) throw new Error(`reply ${received} is not the echo`)
          received++
          progressed = true
        }
        if (progressed || received === n) continue
        // Nothing came back. With replies outstanding, wait for them; with none,
        // the peer has everything, and it is room for the next frame we wait for
        // (a big one may need the peer to pass a wrap marker first).
        const ok =
          sent > received
            ? await ch.readableAsync(WAIT_MS)
            : await ch.writableAsync(sizeOf(sent), WAIT_MS)
        if (!ok) throw new Error(`stalled at ${sent} sent, ${received} received`)
      }
    }
    await bounded(watching(run(), echo), TEST_MS, 'echo')
    ch.close()
    const done = await bounded(echo.result, TEST_MS, 'echo worker end')
    expect(done.echoed).toBe(n)
  })

  it('close from side A releases side B asleep in waitReadable; then B cannot send', async () => {
    const a = Channel.create({ capacity: 64 })
    const w = new TestWorker<CloseReport>('channel-close.mjs', {
      sab: a.buffer,
      mode: 'wait-readable',
      waitMs: 2 * TEST_MS, // longer than the test's own bound: only close() ends it
    })
    // B sleeps on the doorbell A rings when it sends.
    await watching(
      until(() => a.txBell.hasSleepers(), TEST_MS, 'side B asleep'),
      w,
    )
    a.close()
    const r = await bounded(w.result, TEST_MS, 'side B released by close')
    expect(r).toMatchObject({
      readable: false,
      closed: true,
      sendError: 'CHANNEL_CLOSED',
      reserveError: 'CHANNEL_CLOSED',
    })
    expect(r.sleeps).toBeGreaterThan(0)
    expect(codeOf(() => a.send(pattern(1, 1)))).toBe('CHANNEL_CLOSED')
  })

  it('close from side A releases side B asleep in waitWritable; B frames stay readable', async () => {
    const a = Channel.create({ capacity: 64 })
    const w = new TestWorker<CloseReport>('channel-close.mjs', {
      sab: a.buffer,
      mode: 'wait-writable',
      waitMs: 2 * TEST_MS,
    })
    // B fills its ring and sleeps on the doorbell A rings when it frees room.
    await watching(
      until(() => a.rxRoomBell.hasSleepers(), TEST_MS, 'side B asleep'),
      w,
    )
    a.close()
    const r = await bounded(w.result, TEST_MS, 'side B released by close')
    expect(r).toMatchObject({ writable: false, closed: true, sendError: 'CHANNEL_CLOSED' })
    // Everything B published before the close is still there, in order.
    const got: number[][] = []
    while (await a.readableAsync(WAIT_MS)) {
      const f = a.recv()
      if (f !== null) got.push(Array.from(f))
    }
    expect(r.sent).toBeGreaterThan(0)
    expect(got).toEqual(Array.from({ length: r.sent ?? 0 }, (_, i) => [i & 0xff, 0xbb]))
  })

  it('close from side B releases side A asleep in readableAsync', async () => {
    const a = Channel.create({ capacity: 64, spin: 0 })
    const w = new TestWorker<CloseReport>('channel-close.mjs', {
      sab: a.buffer,
      mode: 'close-on-sleep',
      waitMs: WAIT_MS,
    })
    expect(await bounded(watching(a.readableAsync(2 * TEST_MS), w), TEST_MS, 'readableAsync')).toBe(
      false,
    )
    expect(a.closed).toBe(true)
    expect(a.rxBell.sleeps).toBeGreaterThan(0)
    expect(codeOf(() => a.send(pattern(1, 1)))).toBe('CHANNEL_CLOSED')
    expect(codeOf(() => a.reserve(0))).toBe('CHANNEL_CLOSED')
    await bounded(w.result, TEST_MS, 'worker end')
  })

  it('frames sent before side B closes stay readable on side A, then readable is false', async () => {
    const a = Channel.create({ capacity: 128 })
    const w = new TestWorker<CloseReport>('channel-close.mjs', {
      sab: a.buffer,
      mode: 'send-then-close',
      count: 5,
      waitMs: WAIT_MS,
    })
    const r = await bounded(w.result, TEST_MS, 'worker end')
    expect(r).toMatchObject({
      closed: true,
      sendError: 'CHANNEL_CLOSED',
      reserveError: 'CHANNEL_CLOSED',
    })
    const got: number[][] = []
    while (await a.readableAsync(WAIT_MS)) {
      const f = a.recv()
      if (f !== null) got.push(Array.from(f))
    }
    expect(got).toEqual([0, 1, 2, 3, 4].map((i) => [i, 0xcc, i]))
    expect(await a.readableAsync(WAIT_MS)).toBe(false)
    expect(codeOf(() => a.send(pattern(1, 1)))).toBe('CHANNEL_CLOSED')
  })

  it('readableAsync keeps the process alive while it waits', async () => {
    // A pending Atomics.waitAsync alone does not keep Node alive: without the ref'd
    // handle a script awaiting readableAsync would exit before it resolves.
    const script = [
      "import { Channel } from 'multikernel/ring'",
      'const ch = Channel.create({ capacity: 64 })',
      'const r = await ch.readableAsync(300)',
      "console.log('resolved', r)",
    ].join('\n')
    const cwd = fileURLToPath(new URL('../..', import.meta.url))
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd, timeout: TEST_MS },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      )
    })
    expect(out.trim()).toBe('resolved false')
  })
})
