/**
 * The reply drain: the main thread reading every spawnd's reply ring. A REPLY is
 * matched to its waiting client by tag (the receive queue); EXIT and CALL, which no
 * request asked for, go to the handlers the boot path wired (attach, links.ts).
 * The pump (pump.ts) runs it; the links (links.ts) run it once more on a core
 * that ends, so replies it published before it ended are not lost.
 */
import { ERR_OK, errToWire } from '../protocol/errcodes.js'
import {
  frameHeader,
  readHeader,
  readText,
  wellFormed,
  type FrameHeader,
} from '../protocol/frame.js'
import { Op } from '../protocol/opcodes.js'
import type { LinkHandlers } from './link.js'
import { deliver, type ReceiveQueue } from './receive_queue.js'
import type { PumpedLinks } from './pump.js'
import type { SpawndLink } from './spawnd_link.js'

const ERR_PROTOCOL = errToWire('PROTOCOL')

/** The handlers before the boot path attached its own: frames nobody asked for are dropped. */
export const NO_HANDLERS: LinkHandlers = {
  exit() {},
  call() {},
  coreDown() {},
}

/** What a frame from a core updates: its receive queue and counters (a local or remote core). */
export interface FrameTarget {
  readonly core: number
  readonly receiveQueue: ReceiveQueue
  replies: number
  notifications: number
  protocolFailures: number
}

/**
 * Handle one frame from a core (the same for a ring and a NATS batch): a REPLY to
 * its waiting client by tag, a CALL or EXIT to the handlers.
 */
export function handleFrame(
  s: FrameTarget,
  h: FrameHeader,
  text: string | null,
  handlers: LinkHandlers,
): void {
  if (h.op === Op.REPLY) {
    s.replies++
    // A core that keeps answering PROTOCOL is judged unhealthy by the supervisor.
    if (h.aux === ERR_PROTOCOL) s.protocolFailures++
    else if (h.aux === ERR_OK) s.protocolFailures = 0
    const handler = s.receiveQueue.take(h.tag)
    if (handler !== null) deliver(handler, h.aux, h.value, text)
  } else if (h.op === Op.CALL) {
    handlers.call(s.core, h.tag, h.domainId, h.value, text)
  } else if (h.op === Op.EXIT) {
    s.notifications++
    handlers.exit(s.core, h.domainId, h.aux, h.value, text)
  }
}

export class ReplyDrain implements PumpedLinks {
  /** EXIT, CALL and core-down go here (set once, by SpawndLinks.attach). */
  handlers = NO_HANDLERS
  /** The one header replies are read into. */
  private readonly in = frameHeader()

  /** `spawnds` is the links' own array: a core registered there is drained here. */
  constructor(readonly spawnds: readonly SpawndLink[]) {}

  /** Handle every frame in `s`'s reply ring; release once. Returns frames handled. */
  drain(s: SpawndLink): number {
    const rx = s.chan.rx
    const h = this.in
    let n = 0
    for (;;) {
      const at = rx.poll()
      if (at < 0) break
      n++
      if (!wellFormed(rx, at)) {
        s.protocolFailures++
        continue
      }
      readHeader(rx, at, h)
      handleFrame(s, h, readText(rx, at), this.handlers)
    }
    if (n > 0) {
      s.chan.release()
      s.lastSeen = Date.now()
    } else if (rx.usedBytes() !== 0) {
      // poll() passed a wrap marker with no frame after it: release those bytes, or a
      // reply that needs them never fits and the spawnd's outbox waits forever.
      s.chan.release()
    }
    return n
  }

  /** Requests not yet answered on every core: replies still to come. */
  outstanding(): number {
    let n = 0
    for (const s of this.spawnds) n += s.receiveQueue.size
    return n
  }
}
