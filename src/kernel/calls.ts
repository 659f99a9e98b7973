/**
 * What a domain may ask of the process manager (its system calls), checked
 * against the caller's own handle table: a domain acts only on what its handles
 * name. Arguments arrive as JSON from an untrusted realm, so every field is
 * checked here, where the request enters the process manager.
 */
import { KernelError } from '../errors.js'
import type {
  CallHandleArgs,
  CallSpawnArgs,
  CallWaitArgs,
  ChildInfo,
  HandleInfo,
} from '../protocol/messages.js'
import { Call } from '../protocol/opcodes.js'
import type { DomainEntry } from './domain_table.js'
import { HandleTable } from './handles.js'
import type { ProcessManager } from './process_manager.js'
import type { SpawndState } from './spawnd_state.js'
import { ERR_OK, errToWire } from '../protocol/errcodes.js'
import { errorToText } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'

function bad(what: string): never {
  throw new TypeError(`bad call arguments: ${what}`)
}

function obj(x: unknown): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad('not an object')
  return x as Record<string, unknown>
}

function handleOf(a: Record<string, unknown>): number {
  const h = a.handle
  if (typeof h !== 'number' || !Number.isInteger(h) || h < 0) bad('handle')
  return h
}

/** The live entry a caller's handle names (BAD_HANDLE, or DOMAIN_NOTFOUND when stale). */
export function target(pm: ProcessManager, caller: DomainEntry, h: number): DomainEntry {
  const id = caller.handles.get(h)
  const e = pm.table.get(id)
  if (e === undefined)
    throw new KernelError('DOMAIN_NOTFOUND', `handle ${h} names domain ${id}, which is gone`)
  return e
}

function strings(x: unknown, what: string): string[] {
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) bad(what)
  return x as string[]
}

function stringRecord(x: unknown, what: string): Record<string, string> {
  const o = obj(x)
  for (const v of Object.values(o)) if (typeof v !== 'string') bad(what)
  return o as Record<string, string>
}

async function spawn(pm: ProcessManager, caller: DomainEntry, raw: unknown): Promise<number> {
  const a = obj(raw) as Partial<Record<keyof CallSpawnArgs, unknown>>
  if (typeof a.url !== 'string' || !a.url.startsWith('file:')) bad('url must be a file: URL')
  const argv = strings(a.argv ?? [], 'argv')
  const env = stringRecord(a.env ?? {}, 'env')
  pm.checkArgs(argv, env)
  const core = a.core === null || a.core === undefined ? pm.links.pickCore() : (a.core as number)
  const inherit = a.handles ?? []
  if (!Array.isArray(inherit) || !inherit.every((h) => Number.isInteger(h) && h >= 0))
    bad('handles')
  // Validate everything before the spawn request leaves: no half-made child.
  const targets = (inherit as number[]).map((h) => caller.handles.get(h))
  if (caller.handles.list().length >= caller.handles.max) {
    throw new KernelError('HANDLE_TABLE_FULL', `domain ${caller.id} has no free handle for a child`)
  }
  // Shared: the caller's own table object (FORK_SHAREHANDLE). Copied: fresh slots.
  let table: HandleTable
  if (a.shareHandles === true) {
    table = caller.handles
  } else {
    table = new HandleTable(pm.maxHandles)
    for (const id of targets) table.add(id)
  }
  let handle = -1
  let full: unknown = null
  const child = await pm.spawn(core, a.url, argv, env, caller, {
    noreap: a.noreap === true,
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
    },
  })
  if (full !== null) {
    // Raced to a full table: do not leave a child the parent cannot name.
    await pm.kill(child).catch(() => undefined)
    throw full
  }
  return handle
}

export async function handleCall(
  pm: ProcessManager,
  caller: DomainEntry,
  op: number,
  raw: unknown,
): Promise<unknown> {
  switch (op) {
    case Call.SPAWN:
      return spawn(pm, caller, raw)
    case Call.WAIT: {
      const a = obj(raw) as Partial<Record<keyof CallWaitArgs, unknown>>
      const child =
        a.handle === null || a.handle === undefined ? null : target(pm, caller, handleOf(a))
      return pm.tree.waitChild(caller, child, a.nohang === true)
    }
    case Call.KILL: {
      const a = obj(raw) as Partial<Record<keyof CallHandleArgs, unknown>>
      const t = target(pm, caller, handleOf(a))
      if (a.subtree === true) return pm.killTree(t)
      return pm.kill(t)
    }
    case Call.SPAN: {
      const a = obj(raw) as Partial<Record<keyof CallHandleArgs, unknown>>
      return pm.span(target(pm, caller, handleOf(a)), a.core as number)
    }
    case Call.CHILDREN: {
      const out: ChildInfo[] = []
      for (const id of caller.children) {
        const c = pm.table.get(id)
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
      return {
        domainId: t.id,
        program: t.program,
        state: t.state,
        cores: [...t.running].sort((x, y) => x - y),
        exitCode: t.exitCode,
        reason: t.reason,
        parent: t.parentId === 0 ? null : t.parentId,
        children: [...t.children],
      }
    }
    case Call.DUP:
      return caller.handles.dup(handleOf(obj(raw)))
    case Call.CLOSE:
      caller.handles.close(handleOf(obj(raw)))
      return null
    case Call.READY:
      if (!caller.ready) {
        caller.ready = true
        pm.events.publish({ type: 'ready', domainId: caller.id })
      }
      return null
    case Call.HEARTBEAT:
      caller.lastBeat = Date.now()
      return null
    case Call.HANDLES:
      return caller.handles.list() satisfies HandleInfo[]
    default:
      throw new KernelError('PROTOCOL', `unknown call ${op}`)
  }
}

/**
 * A domain's call arrived on `s`'s reply ring, stamped by the spawnd with the
 * caller's id. The answer goes back as a RESULT frame with the call's tag.
 */
export function answerCall(
  pm: ProcessManager,
  s: SpawndState,
  tag: number,
  callerId: number,
  op: number,
  text: string | null,
): void {
  const answer = (err: unknown, result: unknown): void => {
    if (s.health !== 'up') return
    if (err === null) {
      s.post(Op.RESULT, tag, callerId, ERR_OK, JSON.stringify(result ?? null))
    } else {
      const code = err instanceof KernelError ? err.code : 'PROTOCOL'
      s.post(Op.RESULT, tag, callerId, errToWire(code), JSON.stringify(errorToText(err)))
    }
    pm.links.requested()
  }
  let p: Promise<unknown>
  try {
    const caller = pm.table.get(callerId)
    if (caller === undefined || !caller.running.has(s.core) || caller.state !== 'RUNNING') {
      throw new KernelError(
        'DOMAIN_NOT_RUNNING',
        `caller ${callerId} does not run on core ${s.core}`,
      )
    }
    p = handleCall(pm, caller, op, JSON.parse(text ?? 'null') as unknown)
  } catch (err) {
    p = Promise.reject(err)
  }
  p.then(
    (v) => answer(null, v),
    (err: unknown) => answer(err, null),
  )
}
