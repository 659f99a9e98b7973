/**
 * How the benchmark gets a session: for now a Channel laid out here and one
 * SessionPort per end (the data plane alone); once sessions open through the process
 * manager (ctx.session / rt.session), this file is the one to swap: openPair() then
 * asks for a real session between two domains and openEnd() takes the domain's end.
 */
import { Channel } from '../../src/ring/index.js'
import { SessionPort, type SessionMethod } from '../../src/session/port.js'

/** What one end needs to attach (cloned into its worker). */
export interface SessionEnd {
  sab: SharedArrayBuffer
  side: 'a' | 'b'
}

/** A fresh session's two ends: the client's and the server's. */
export function openPair(capacity: number): { client: SessionEnd; server: SessionEnd } {
  const ch = Channel.create({ capacity })
  return { client: { sab: ch.buffer, side: 'a' }, server: { sab: ch.buffer, side: 'b' } }
}

/** This thread's end of a session, started. */
export function openEnd(
  end: SessionEnd,
  opts: { methods?: readonly SessionMethod[]; spin?: number } = {},
): SessionPort {
  const ch = new Channel(end.sab, end.side)
  const port = new SessionPort(ch, {
    role: end.side === 'a' ? 'client' : 'server',
    methods: opts.methods,
    spin: opts.spin,
  })
  port.start()
  return port
}
