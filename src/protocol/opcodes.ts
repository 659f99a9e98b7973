/**
 * Opcodes of the process-manager <-> spawnd protocol (Barrelfish's spawn.if and
 * proc_mgmt.if, flattened into one frame format).
 *
 * Requests travel the process manager's send queue into a spawnd's request ring;
 * replies and notifications travel the spawnd's reply ring back. Every request gets
 * exactly one REPLY with the request's tag; a spawnd may answer out of order
 * (module loading is async), so the process manager matches replies by tag.
 */
export const Op = {
  /** Null request: measures the path. */
  PING: 1,
  /** Start a new domain's first dispatcher on this core. */
  SPAWN: 2,
  /** Start another dispatcher of a running domain on this core. */
  SPAN: 3,
  /** Stop this core's dispatcher of a domain (its AbortSignal fires). */
  KILL: 4,
  /** Free this core's dispatcher entry of a stopped domain. */
  CLEANUP: 5,
  /** The spawnd's dispatcher table (its `ps`). */
  PS: 6,
  /** Stop the spawnd loop; the worker ends. */
  SHUTDOWN: 7,
  /** Ask this core's dispatcher of a domain to stop gracefully (its stopSignal fires). */
  TERM: 9,
  /**
   * Sessions (Genode's session_request / close / upgrade and the parent's
   * resource_request / yield), each a request to the core of the domain whose code
   * must answer; the text is JSON (protocol/messages.ts). The session's channel
   * buffer reaches that core by its monitor port, not the ring.
   */
  /** Run a server's open(req) for a new session; the reply carries its methods. */
  SESSION_OPEN: 10,
  /** A session ended: the server's close(req, why) runs, the end's port is dropped. */
  SESSION_CLOSE: 11,
  /** A session's quota grew: the server's upgrade(req, quota) hears of it. */
  SESSION_UPGRADE: 12,
  /** A child asks its parent for quota: the parent's onResourceRequest answers. */
  RESOURCE_REQUEST: 13,
  /** The parent asks a child to give quota back: the child's onYield answers. */
  YIELD: 14,
  /**
   * A live update (MINIX's RS_UPDATE), each to the core of the incarnation named:
   * the old one pauses its sessions at a quiescent point and hands its state
   * (PREPARE), resumes (RESUME) or lets its ends go (COMMIT); the new one adopts each
   * session (ADOPT), then starts them (START) or drops them (ABORT).
   */
  UPDATE_PREPARE: 15,
  UPDATE_RESUME: 16,
  UPDATE_COMMIT: 17,
  SESSION_ADOPT: 18,
  UPDATE_START: 19,
  UPDATE_ABORT: 20,
  /** process manager -> spawnd: the answer to a domain's CALL (tag = the call's tag). */
  RESULT: 8,
  /** spawnd -> process manager: the answer to the request with this tag. */
  REPLY: 16,
  /** spawnd -> process manager, unsolicited: a dispatcher's main finished. */
  EXIT: 17,
  /**
   * spawnd -> process manager: a domain's request (ctx.spawn, ctx.wait, ...). The
   * spawnd stamps the caller's domain id; the domain cannot choose it.
   */
  CALL: 18,
} as const

export type OpCode = (typeof Op)[keyof typeof Op]

/** How a dispatcher's main ended, carried by EXIT. */
export const ExitHow = {
  RETURNED: 0,
  THREW: 1,
  EXIT_CALLED: 2,
} as const

export type ExitHowCode = (typeof ExitHow)[keyof typeof ExitHow]

/**
 * Flag or'ed into EXIT's how-word: the spawnd already freed this dispatcher's
 * entry, so the core needs no CLEANUP for it. A dispatcher that ends by itself
 * releases itself; this saves a round trip per short-lived domain.
 */
export const EXIT_RELEASED = 0x100

/**
 * Exit statuses both sides agree on: a killed domain's (9, as in Barrelfish; the
 * spawnd aborts a killed dispatcher's signal with it) and that of a domain whose
 * core failed under it (134, as a process that aborted).
 */
export const KILLED_EXIT_CODE = 9
export const CORE_FAILED_EXIT_CODE = 134

/**
 * What a domain asks of the process manager (the value word of a CALL frame).
 * Arguments and results are JSON text (protocol/messages.ts).
 */
export const Call = {
  SPAWN: 1,
  WAIT: 2,
  KILL: 3,
  CHILDREN: 4,
  STATUS: 5,
  DUP: 6,
  CLOSE: 7,
  HANDLES: 8,
  SPAN: 9,
  /** The init-ready handshake of a service (MINIX RS). */
  READY: 10,
  /** A domain's heartbeat (Genode counts the skipped ones). */
  HEARTBEAT: 11,
  /** Announce a service under a name (ctx.serve). */
  SERVE: 12,
  /** Ask for a session (ctx.session): routed, labelled, quota moved. */
  SESSION: 13,
  /** Close a session by handle. */
  SESSION_CLOSE: 14,
  /** Move more quota into an open session. */
  SESSION_UPGRADE: 15,
  /** Take up a session this domain holds a handle to (one passed at spawn). */
  SESSION_ATTACH: 16,
  /** This domain's quota account. */
  QUOTA: 17,
  /** Ask the parent for quota (Genode's resource_request). */
  RESOURCE_REQUEST: 18,
  /** Ask a child (by handle) to give quota back (Genode's yield). */
  YIELD: 19,
  /** Stop serving a name. */
  UNSERVE: 20,
  /** The state the previous incarnation handed over (a live update), or null. */
  UPDATE_STATE: 21,
} as const

export type CallCode = (typeof Call)[keyof typeof Call]
