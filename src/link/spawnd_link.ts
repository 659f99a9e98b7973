/**
 * SpawndLink: the main thread's end of one spawnd's channel (Barrelfish's
 * `struct spawnd_state`): its worker, its frame sender (whose outbox is the send
 * queue of requests waiting for ring room), its receive queue of clients waiting
 * for replies, and its health and counters.
 */
import type { MessagePort, Worker } from 'node:worker_threads'
import type { ChannelBinding } from '../protocol/spawnd_boot.js'
import type { Channel } from '../ring/channel.js'
import { FrameSender } from '../protocol/sender.js'
import { frameHeader, type FrameHeader } from '../protocol/frame.js'
import { SpawnEncoder } from '../protocol/spawn_frame.js'
import { ReceiveQueue, type ReplyHandler } from './receive_queue.js'
import type { SpawndHealth } from './link.js'

export type { SpawndHealth } from './link.js'

export class SpawndLink {
  readonly core: number
  readonly chan: Channel
  readonly worker: Worker
  /** Requests (and RESULTs) into the request ring, or behind it when full (TX_BUSY). */
  readonly sender: FrameSender
  readonly receiveQueue = new ReceiveQueue()
  health: SpawndHealth = 'up'
  /** Why it failed, once it has (for error messages). */
  failure = ''
  /** Requests sent, replies and notifications received: for the demo and benchmarks. */
  requests = 0
  replies = 0
  notifications = 0
  /** Date.now() when the core last answered anything (updated once per drained batch). */
  lastSeen = Date.now()
  /** Consecutive replies that said the core could not follow the protocol (PROTOCOL, malformed). */
  protocolFailures = 0
  /** The core's gauges (protocol/core_gauges.ts), written by its spawnd. */
  readonly gauges: Int32Array
  private readonly token: number
  /** Program URLs interned on this core (spawn_frame.ts): a fresh table per spawnd. */
  private readonly programs = new SpawnEncoder()
  /** The one header this link writes from: refilled per frame, never allocated. */
  private readonly out = frameHeader()

  constructor(
    core: number,
    chan: Channel,
    worker: Worker,
    token: number,
    gauges: Int32Array,
    private readonly monitor: MessagePort,
  ) {
    this.core = core
    this.gauges = gauges
    this.chan = chan
    this.worker = worker
    this.token = token
    this.sender = new FrameSender(chan.tx, chan.txBell)
  }

  /**
   * Send a request (not published until flush()). Returns the tag under which
   * `handler` waits for the reply. A request that can never fit the ring is
   * refused (FRAME_TOO_LARGE) before its client is parked.
   */
  request(
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    handler: ReplyHandler,
  ): number {
    const tag = this.receiveQueue.add(handler)
    try {
      this.sender.send(this.header(op, tag, domainId, arg), text)
    } catch (err) {
      this.receiveQueue.cancel(tag)
      throw err
    }
    this.requests++
    return tag
  }

  /**
   * Send a SPAWN or SPAN in binary (spawn_frame.ts): a program this core already
   * knows travels as its index, argv and env only when there are some.
   */
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

  /**
   * Answer a domain's call (a RESULT frame; `err` is its error word, carried in
   * the value word). Not published until flush().
   */
  answer(op: number, tag: number, domainId: number, err: number, text: string | null): void {
    this.sender.answer(this.header(op, tag, domainId, err), text, 'value')
  }

  /** The reused header, filled for one frame (aux: the process manager's token). */
  private header(op: number, tag: number, domainId: number, value: number): FrameHeader {
    const h = this.out
    h.op = op
    h.tag = tag
    h.aux = this.token
    h.domainId = domainId
    h.value = value
    return h
  }

  /**
   * Hand the spawnd a session channel's buffer (the monitor's binding path). It may
   * arrive before or after the ring frame that names the session; the spawnd pairs them.
   */
  bind(session: number, buffer: SharedArrayBuffer): void {
    const msg: ChannelBinding = { session, buffer }
    this.monitor.postMessage(msg)
  }

  /** Close the monitor port (the worker is gone or going). */
  closeMonitor(): void {
    this.monitor.close()
  }

  /** Publish what was written and ring the spawnd if it sleeps: once per batch. */
  flush(): void {
    this.sender.flush()
  }
}
