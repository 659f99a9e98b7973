/**
 * One-way streaming, both ends, like for like: `batch` messages per publish (port:
 * written in one synchronous run, then flush()) or per postMessage (an array of
 * `batch` messages). The sink times from the round's start to its last message and
 * checks every message's sequence number; both ends count their GCs.
 *
 *   values: a small structured value { seq, kind, ok } per message (a fresh one each)
 *   bytes:  64-byte messages (sendBytes / an array of Uint8Arrays); the port's sink
 *           reads them zero-copy through onBytes
 *
 * The port's source awaits drain() when a send says false (the ring was full); the
 * postMessage source keeps at most `window` batches in flight, credited by the sink
 * through a shared word (postMessage itself never pushes back).
 */
import type { RoundData, RoundFn } from '../lib/rounds.js'
import { GcCounter } from './gc.js'
import { openEnd } from './pair.js'
import { BYTES_PAYLOAD, smallValue, type StreamTask } from './tasks.js'

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`stream task lacks ${what}`)
  return v
}

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

export function streamSource(t: StreamTask): RoundFn {
  const gc = new GcCounter()
  const bytes = new Uint8Array(BYTES_PAYLOAD)
  if (t.impl === 'port') {
    const port = openEnd(need(t.end, 'end'))
    return async () => {
      const gcs0 = gc.count
      let full = 0
      for (let i = 0; i < t.count;) {
        let ok = true
        const end = Math.min(t.count, i + t.batch)
        if (t.what === 'bytes') {
          for (; i < end; i++) {
            bytes[0] = i
            ok = port.sendBytes(bytes)
          }
        } else {
          for (; i < end; i++) ok = port.send(smallValue(i))
        }
        port.flush()
        if (!ok) {
          full++
          await port.drain()
        }
      }
      await port.drain()
      return { gcs: (await gc.settled()) - gcs0, full }
    }
  }
  const port = need(t.port, 'port')
  const credit = new Int32Array(need(t.credit, 'credit'))
  let sent = 0
  return async () => {
    const gcs0 = gc.count
    for (let i = 0; i < t.count;) {
      while (sent - Atomics.load(credit, 0) >= t.window) await yieldTurn()
      const end = Math.min(t.count, i + t.batch)
      const batch: unknown[] = []
      if (t.what === 'bytes') {
        for (; i < end; i++) {
          const b = new Uint8Array(BYTES_PAYLOAD)
          b[0] = i
          batch.push(b)
        }
      } else {
        for (; i < end; i++) batch.push(smallValue(i))
      }
      port.postMessage(batch)
      sent++
    }
    return { gcs: (await gc.settled()) - gcs0 }
  }
}

export function streamSink(t: StreamTask): RoundFn {
  const gc = new GcCounter()
  let got = 0
  let bad = 0
  let target = 0
  let done: (() => void) | null = null
  const arrived = (): void => {
    if (got === target && done !== null) {
      const d = done
      done = null
      d()
    }
  }
  if (t.impl === 'port') {
    const port = openEnd(need(t.end, 'end'))
    if (t.what === 'bytes') {
      port.onBytes = (b, start, end) => {
        if (b[start] !== (got & 255) || end - start !== BYTES_PAYLOAD) bad++
        got++
        arrived()
      }
    } else {
      void (async () => {
        for await (const v of port) {
          if ((v as { seq: number }).seq !== got % t.count) bad++
          got++
          arrived()
        }
      })()
    }
  } else {
    const port = need(t.port, 'port')
    const credit = new Int32Array(need(t.credit, 'credit'))
    let batches = 0
    port.on('message', (batch: unknown[]) => {
      for (let k = 0; k < batch.length; k++) {
        const m = batch[k]
        const seq = t.what === 'bytes' ? (m as Uint8Array)[0] : (m as { seq: number }).seq
        if (seq !== (t.what === 'bytes' ? got & 255 : got % t.count)) bad++
        got++
      }
      Atomics.store(credit, 0, ++batches)
      arrived()
    })
  }
  return async (): Promise<RoundData> => {
    const gcs0 = gc.count
    const t0 = performance.now()
    target += t.count
    if (got < target) await new Promise<void>((r) => (done = r))
    const ms = performance.now() - t0
    return { rate: (t.count / ms) * 1000, bad, gcs: (await gc.settled()) - gcs0 }
  }
}
