/**
 * RemoteCore: the runtime's end of one core on a node, one incarnation of it (a
 * rejoin or a restart makes a fresh one, as a fresh spawnd gets a fresh
 * SpawndLink). The same parts as a local core's link: a receive queue of clients
 * waiting for replies, the per-core program table of spawn frames, counters; and
 * instead of a ring, the batch its requests are written into until the flush that
 * publishes it (remote_links.ts).
 */
import { KernelError } from '../errors.js'
import { errToWire } from '../protocol/errcodes.js'
import { frameHeader, HEADER_BYTES, type FrameHeader } from '../protocol/frame.js'
import { SpawnEncoder } from '../protocol/spawn_frame.js'
import { ReceiveQueue, type ReplyHandler } from '../link/receive_queue.js'
import type { FrameTarget } from '../link/reply_drain.js'
import type { SpawndHealth } from '../link/spawnd_link.js'
import { BatchWriter } from './wire.js'

const FRAME_TOO_LARGE_WIRE = errToWire('FRAME_TOO_LARGE')

export class RemoteCore implements FrameTarget {
  readonly receiveQueue = new ReceiveQueue()
  health: SpawndHealth = 'up'
  failure = ''
  requests = 0
  replies = 0
  notifications = 0
  protocolFailures = 0
  /**
   * When the core last sent anything. A fresh incarnation's spawnd is still booting
   * on its node (a join does not wait for it), so this starts `bootGraceMs` ahead:
   * the supervisor's hang rule (silent for two periods with a ping out) applies
   * from its first answer, or once the grace is over without one; as a local core
   * is judged only once it answered its first ping.
   */
  lastSeen: number
  /** Written to since the last flush (it is on the flush's list). */
  dirty = false
  /** Requests written since the last publish. */
  readonly out: BatchWriter
  private readonly programs = new SpawnEncoder()
  private readonly h = frameHeader()

  constructor(
    /** Its number in the runtime (after the local cores). */
    readonly core: number,
    /** Its node's name, and its index there. */
    readonly node: string,
    readonly index: number,
    /** The largest frame payload the node's rings and the broker take. */
    readonly maxFrame: number,
    maxBatch: number,
    /** Publish `out` now: it cannot take the next frame. */
    private readonly full: (c: RemoteCore) => void,
    bootGraceMs = 0,
  ) {
    this.out = new BatchWriter(maxBatch)
    this.lastSeen = Date.now() + bootGraceMs
  }

  /** Park `handler` and write the request; FRAME_TOO_LARGE (nothing parked) if it can never fit. */
  request(
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    handler: ReplyHandler,
  ): number {
    this.checkSize(text)
    const tag = this.receiveQueue.add(handler)
    this.write(op, tag, domainId, arg, text)
    this.requests++
    return tag
  }

  /** A SPAWN or SPAN (spawn_frame.ts), its program interned on this incarnation. */
  requestSpawn(
    op: number,
    domainId: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    handler: ReplyHandler,
  ): number {
    const value = this.programs.encode(url, argv, env)
    const tag = this.request(op, domainId, value, this.programs.text, handler)
    this.programs.commit()
    return tag
  }

  /** A RESULT for a domain's CALL; one too large goes as its error, like a local core's. */
  answer(op: number, tag: number, domainId: number, err: number, text: string | null): void {
    if (text !== null && this.payload(text) > this.maxFrame) {
      this.write(op, tag, domainId, err === 0 ? FRAME_TOO_LARGE_WIRE : err, null)
      return
    }
    this.write(op, tag, domainId, err, text)
  }

  private write(
    op: number,
    tag: number,
    domainId: number,
    value: number,
    text: string | null,
  ): void {
    const h: FrameHeader = this.h
    h.op = op
    h.tag = tag
    // The node puts its own spawnd's token here (node_core.ts).
    h.aux = 0
    h.domainId = domainId
    h.value = value
    const most = text === null ? HEADER_BYTES : HEADER_BYTES + text.length * 3
    if (this.out.frames > 0 && !this.out.fits(most)) this.full(this)
    this.out.frame(h, text)
  }

  private checkSize(text: string | null): void {
    if (text === null || HEADER_BYTES + text.length * 3 <= this.maxFrame) return
    const bytes = this.payload(text)
    if (bytes > this.maxFrame) {
      throw new KernelError(
        'FRAME_TOO_LARGE',
        `a ${bytes}-byte frame can never fit remote core ${this.core} (node ${this.node}: at most ${this.maxFrame})`,
      )
    }
  }

  private payload(text: string): number {
    return HEADER_BYTES + Buffer.byteLength(text, 'utf8')
  }
}
