/**
 * What a domain may ask of the process manager (its system calls), checked
 * against the caller's own handle table: a domain acts only on what its handles
 * name. Arguments arrive as JSON from an untrusted realm, so every field is
 * checked here, where the request enters the process manager. The process
 * manager does not know this file: the boot path wires the link's CALL frames here.
 */
import { KernelError } from '../errors.js'
import type { CoreLinks } from '../link/link.js'
import { ERR_OK, errToWire } from '../protocol/errcodes.js'
import { encodeError } from '../protocol/error_text.js'
import type {
  CallHandleArgs,
  CallSpawnArgs,
  CallWaitArgs,
  ChildInfo,
  DomainInfo,
  HandleInfo,
} from '../protocol/messages.js'
import { Call } from '../protocol/opcodes.js'
import { spawnArgs } from './args.js'
import { RUNNING } from './core_set.js'
import type { DomainEntry } from './domain_table.js'
import { HandleTable } from './handles.js'
import type { ProcessManager } from './process_manager.js'
import { DETACHED, type SessionCalls } from './session_calls.js'
import type { SessionTable } from './sessions.js'
import { quotaArg } from '../session/quota.js'

function bad(what: string): never {
  throw new TypeError(`bad call arguments: ${what}`)
}

function obj(x: unknown): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad('not an object')
  return x as Record<string, unknown>
}

/** A yes/no option of a call: absent is no; anything but a boolean is refused. */
function flag(a: Record<string, unknown>, name: string): boolean {
  const v = a[name]
  if (v === undefined) return false
  if (typeof v !== 'boolean') bad(`${name} must be a boolean`)
  return v
}

function handleOf(a: Record<string, unknown>): number {
  const h = a.handle
  if (typeof h !== 'number' || !Number.isInteger(h) || h < 0) bad('handle')
  return h
}

/** The live entry a caller's handle names (BAD_HANDLE, or DOMAIN_NOTFOUND when stale). */
function target(pm: ProcessManager, caller: DomainEntry, h: number): DomainEntry {
  const id = caller.handles.get(h)
  const e = pm.entry(id)
  if (e === undefined)
    throw new KernelError('DOMAIN_NOTFOUND', `handle ${h} names domain ${id}, which is gone`)
  return e
}

async function spawn(
  pm: ProcessManager,
  links: CoreLinks,
  sessions: SessionTable,
  caller: DomainEntry,
  raw: unknown,
): Promise<number> {
  const a = obj(raw) as Partial<Record<keyof CallSpawnArgs, unknown>>
  if (typeof a.url !== 'string' || !a.url.startsWith('file:')) bad('url must be a file: URL')
  const { argv, env } = spawnArgs(
    a.argv === undefined ? [] : a.argv,
    a.env === undefined ? {} : a.env,
    pm.limits.maxArgBytes,
  )
  const noreap = flag(a, 'noreap')
  const share = flag(a, 'shareHandles')
  const core = a.core === null || a.core === undefined ? links.pickCore() : (a.core as number)
  const inherit = a.handles ?? []
  if (!Array.isArray(inherit) || !inherit.every((h) => Number.isInteger(h) && h >= 0))
    bad('handles')
  const label = a.label === undefined || a.label === null ? '' : a.label
  if (typeof label !== 'string') bad('label must be a string')
  const quota =
    a.quota === undefined || a.quota === null ? null : quotaArg(a.quota, { bytes: 0, handles: 0 })
  // Validate everything before the spawn request leaves: no half-made child.
  // A slot is a domain (id) or a session (minus its id), copied as it is.
  const targets = (inherit as number[]).map((h) => caller.handles.raw(h))
  if (caller.handles.list().length >= caller.handles.max) {
    throw new KernelError('HANDLE_TABLE_FULL', `domain ${caller.id} has no free handle for a child`)
  }
  // Shared: the caller's own table object (FORK_SHAREHANDLE). Copied: fresh slots.
  let table: HandleTable
  if (share) {
    table = caller.handles
  } else {
    table = new HandleTable(pm.limits.maxHandles)
    for (const id of targets) table.add(id)
  }
  const moved = share ? [] : targets.filter((id) => id < 0)
  let handle = -1
  let full: unknown = null
  const child = await pm.spawn(core, a.url, argv, env, caller, {
    noreap,
    label,
    quota,
    handles: table,
    // Named the moment it is linked: a detached child may end and be freed (its
    // handles closed) before this function resumes, and a handle added after that
    // would name a freed entry forever, a slot leaked.
    onLink: (e) => {
      try {
        handle = caller.handles.add(e.id)
      } catch (err) {
        full = err
      }
      // A session passed to a child moves to it (its channel has one client end):
      // the child is its client now, and attaches it on its core (ctx.attach).
      for (const neg of moved) {
        const r = sessions.get(-neg)
        const h = caller.handles.findSession(-neg)
        if (h !== null) caller.handles.close(h)
        if (r === undefined || r.client !== caller) continue
        r.client = e
        r.clientCore = DETACHED
        r.handle = e.handles.findSession(r.id)
      }
    },
  })
  if (full !== null) {
    // Raced to a full table: do not leave a child the parent cannot name.
    await pm.kill(child).catch(() => undefined)
    throw full
  }
  return handle
}

/** A domain's calls, answered on the link they came by. */
export class Calls {
  constructor(
    private readonly pm: ProcessManager,
    private readonly links: CoreLinks,
    private readonly sessions: SessionTable,
    private readonly sessionCalls: SessionCalls,
  ) {}

  /**
   * CALL: a domain's call arrived from `core`, stamped by the spawnd with the
   * caller's id. The answer goes back as a RESULT frame with the call's tag.
   */
  answer(core: number, tag: number, callerId: number, op: number, text: string | null): void {
    const reply = (err: unknown, result: unknown): void => {
      if (err === null) {
        this.links.answer(core, tag, callerId, ERR_OK, JSON.stringify(result ?? null))
      } else {
        const code = err instanceof KernelError ? err.code : 'PROTOCOL'
        this.links.answer(core, tag, callerId, errToWire(code), encodeError(err))
      }
    }
    let p: Promise<unknown>
    try {
      const caller = this.pm.entry(callerId)
      if (caller === undefined || !caller.hasCore(RUNNING, core) || caller.state !== 'RUNNING') {
        throw new KernelError(
          'DOMAIN_NOT_RUNNING',
          `caller ${callerId} does not run on core ${core}`,
        )
      }
      p = this.handle(caller, core, op, JSON.parse(text ?? 'null') as unknown)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (v) => reply(null, v),
      (err: unknown) => reply(err, null),
    )
  }

  private async handle(
    caller: DomainEntry,
    core: number,
    op: number,
    raw: unknown,
  ): Promise<unknown> {
    const pm = this.pm
    switch (op) {
      case Call.SPAWN:
        return spawn(pm, this.links, this.sessions, caller, raw)
      case Call.WAIT: {
        const a = obj(raw) as Partial<Record<keyof CallWaitArgs, unknown>>
        const child =
          a.handle === null || a.handle === undefined ? null : target(pm, caller, handleOf(a))
        return pm.waitChild(caller, child, flag(a, 'nohang'))
      }
      case Call.KILL: {
        const a = obj(raw) as Partial<Record<keyof CallHandleArgs, unknown>>
        const t = target(pm, caller, handleOf(a))
        if (flag(a, 'subtree')) return pm.killTree(t)
        return pm.kill(t)
      }
      case Call.SPAN: {
        const a = obj(raw) as Partial<Record<keyof CallHandleArgs, unknown>>
        return pm.span(target(pm, caller, handleOf(a)), a.core as number)
      }
      case Call.CHILDREN: {
        const out: ChildInfo[] = []
        for (const id of caller.children) {
          const c = pm.entry(id)
          if (c === undefined) continue
          out.push({
            handle: caller.handles.find(id),
            domainId: id,
            program: c.program,
            state: c.state,
            noreap: c.noreap,
          })
        }
        return out
      }
      case Call.STATUS: {
        const t = target(pm, caller, handleOf(obj(raw)))
        const info: DomainInfo = {
          domainId: t.id,
          program: t.program,
          state: t.state,
          cores: t.coreList(RUNNING),
          exitCode: t.exitCode,
          reason: t.reason,
          parent: t.parentId === 0 ? null : t.parentId,
          children: [...t.children],
        }
        return info
      }
      case Call.DUP:
        return caller.handles.dup(handleOf(obj(raw)))
      case Call.CLOSE: {
        const h = handleOf(obj(raw))
        // Closing a session's handle ends the session (its quota comes back).
        if (caller.handles.raw(h) < 0)
          return this.sessionCalls.handle(caller, core, Call.SESSION_CLOSE, { handle: h })
        caller.handles.close(h)
        return null
      }
      case Call.READY:
        pm.markReady(caller)
        return null
      case Call.HEARTBEAT:
        caller.beat()
        return null
      case Call.HANDLES:
        return caller.handles.list() satisfies HandleInfo[]
      default:
        return this.sessionCalls.handle(caller, core, op, raw)
    }
  }
}
