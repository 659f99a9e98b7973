/**
 * What the domain side (the process manager) needs of the wire to the cores, and
 * what the wire hands back to it. The rings to local spawnds (links.ts) are one
 * transport; remote cores over NATS would be another, implementing the same
 * interface beside them. Nothing here knows what a domain is: a request is an
 * opcode, a domain id, an argument and a text, answered exactly once.
 */
import type { Worker } from 'node:worker_threads'
import type { KernelError } from '../errors.js'
import type { PsEntry } from '../protocol/messages.js'
import type { ReplyHandler } from './receive_queue.js'

export type { ReplyHandler } from './receive_queue.js'

/** Reply codes for requests that never reached a live spawnd (below every wire code). */
export const ERR_CORE_FAILED = -1
export const ERR_SHUTDOWN = -2

/** The process manager's view of its cores. */
export interface CoreLinks {
  /** Number of cores, up or not (numbered 0..cores-1). */
  readonly cores: number
  /** `core` if it names a core; INVALID_SPAWND otherwise. */
  check(core: unknown): number
  /** True while `core` serves requests. */
  isUp(core: number): boolean
  /** Round-robin over the cores that are up; INVALID_SPAWND when none is. */
  pickCore(): number
  /**
   * Queue a request for `core`. `h` is called exactly once: with the reply, or with
   * ERR_CORE_FAILED / ERR_SHUTDOWN (asynchronously) when the core cannot answer.
   * Throws FRAME_TOO_LARGE, and queues nothing, for a request that can never fit.
   */
  request(
    core: number,
    op: number,
    domainId: number,
    arg: number,
    text: string | null,
    h: ReplyHandler,
  ): void
  /**
   * Queue a SPAWN or SPAN of `url` for `core` (binary, its URL interned per core),
   * answered as request() is.
   */
  requestSpawn(
    core: number,
    op: number,
    domainId: number,
    url: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    h: ReplyHandler,
  ): void
  /**
   * Hand `core` the buffer of session `session`'s channel (Barrelfish's monitor
   * binding a UMP channel) for the end `end` says; false when the core is not up.
   */
  bind(core: number, session: number, buffer: SharedArrayBuffer, end: SessionEnd): boolean
  /** Answer a CALL that came from `core` (a RESULT frame); dropped if the core is not up. */
  answer(core: number, tag: number, callerId: number, err: number, text: string | null): void
  /** The KernelError a failed reply stands for (`what` names the request). */
  replyError(err: number, text: string | null, what: string, core: number): KernelError
}

/** Which end of a session a bind is for, and where the other end is. */
export interface SessionEnd {
  role: 'client' | 'server'
  /** The other end's core; -1 the main thread. */
  peerCore: number
  /** The end moves (a handle attached elsewhere, a live update's new server). */
  rebind?: boolean
}

/** Where the frames no request asked for go: wired once, by the boot path. */
export interface LinkHandlers {
  /** EXIT: a dispatcher's main ended on `core` (`how`: ExitHow, maybe | EXIT_RELEASED). */
  exit(core: number, domainId: number, how: number, code: number, text: string | null): void
  /** CALL: a domain on `core` asks the process manager something (answer with answer()). */
  call(core: number, tag: number, callerId: number, op: number, text: string | null): void
  /**
   * `core` went down (failed: its worker died or hung; down: shutdown). Every
   * request queued for it has been answered ERR_CORE_FAILED / ERR_SHUTDOWN first.
   */
  coreDown(core: number, health: 'failed' | 'down', why: string): void
}

/** up: serving; failed: its worker died or hung (or its node was lost); down: stopped at shutdown. */
export type SpawndHealth = 'up' | 'failed' | 'down'

/** Per-core counters, for dashboards and benchmarks. */
export interface CoreStats {
  core: number
  health: SpawndHealth
  /** The node a remote core runs on (remote cores only). */
  node?: string
  /** Requests waiting for ring room (the send queue). */
  sendQueue: number
  /** Clients waiting for replies (the receive queue). */
  receiveQueue: number
  requests: number
  replies: number
  notifications: number
  /** Replies whose tag named no waiting client: counted and dropped, never read. */
  strayReplies: number
  /** Bytes published and not yet consumed in the request ring (PM -> spawnd). */
  requestRingBytes: number
  /** Bytes published and not yet consumed in the reply ring (spawnd -> PM). */
  replyRingBytes: number
  /** Milliseconds since the core last answered anything. */
  lastSeenAgoMs: number
  /** Replies in a row that said the core could not follow the protocol (PROTOCOL, malformed). */
  protocolFailures: number
}

/** A remote node as the runtime sees it (rt.nodes()). */
export interface NodeInfo {
  name: string
  /** Its core numbers in the runtime (empty until it first joined). */
  cores: number[]
  /** True while its link is up. */
  joined: boolean
  /** Batches from it refused: garbage, forged, altered or replayed (this link epoch). */
  refused: number
}

/** A live local core as the supervisor's watchers see it. */
export interface CoreLinkView {
  /** Its gauges (protocol/core_gauges.ts). */
  readonly gauges: Int32Array
  readonly worker: Worker
  /** Requests sent to it so far (compared with its HANDLED gauge). */
  readonly requests: number
}

/**
 * Everything the kernel and the supervisor do with their cores: the requests of
 * CoreLinks and the cores' lifecycle. The local rings (links.ts) are one; local
 * and remote cores together (remote/all_cores.ts) another.
 */
export interface KernelLinks extends CoreLinks {
  ping(core: number, value?: number): Promise<number>
  pingMany(core: number, count: number, window: number): Promise<void>
  ps(core: number): Promise<PsEntry[]>
  stats(): CoreStats[]
  health(): SpawndHealth[]
  /** The remote nodes (none without `remote`). */
  nodes(): NodeInfo[]
  /** The worker of a local core (INVALID_SPAWND for a remote one). */
  worker(core: number): Worker
  /** Gauges of a local core that is up; null otherwise. */
  coreLink(core: number): CoreLinkView | null
  /** Read what has arrived from every core now. */
  pollReplies(): void
  /** Declare a core failed (hung) and end its spawnd. */
  terminate(core: number, why: string): Promise<void>
  /** A fresh spawnd on a failed core; resolves once it answered a ping. */
  restart(core: number): Promise<void>
  /** Replace an idle local core's spawnd (the module bound); nothing for a remote one. */
  retire(core: number): Promise<void>
  beginClose(): void
  close(timeoutMs: number): Promise<void>
}
