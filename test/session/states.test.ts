// Every session state transition (Genode's Session_state), as the 'session' events
// tell them: open and close, upgrade, a deny, too little quota, and a server that dies.
import { afterEach, beforeEach, expect, it } from 'vitest'
import { boot, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'
import { fixture, openWhenServed } from './domains.js'

let rt: Runtime
let seen: { id: number; from: string; to: string }[]

beforeEach(async () => {
  rt = await boot({ cores: 2 })
  seen = []
  rt.events.on('session', (e: { id: number; from: string; to: string }) => seen.push(e))
})

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

const path = (id: number): string[] =>
  seen.filter((e) => e.id === id).map((e) => `${e.from}>${e.to}`)

function serve(): void {
  rt.serve('s', {
    open(req) {
      const a = req.args as { deny?: boolean; want?: number } | null
      if (a?.deny === true) throw new Error('no')
      if (a?.want !== undefined) req.insufficient({ bytes: a.want })
      return { ping: () => 'pong' }
    },
  })
}

it('open, upgrade, close', async () => {
  serve()
  const s = await rt.session('s')
  await s.upgrade({ bytes: 10 })
  await s.close()
  // close() resolves once the session is CLOSED: every step is told by then.
  expect(path(s.id)).toEqual([
    'CREATE_REQUESTED>CREATE_REQUESTED',
    'CREATE_REQUESTED>AVAILABLE',
    'AVAILABLE>CAP_HANDED_OUT',
    'CAP_HANDED_OUT>UPGRADE_REQUESTED',
    'UPGRADE_REQUESTED>CAP_HANDED_OUT',
    'CAP_HANDED_OUT>CLOSE_REQUESTED',
    'CLOSE_REQUESTED>CLOSED',
  ])
})

it('denied, and insufficient quota, are ends', async () => {
  serve()
  await expect(rt.session('s', { args: { deny: true } })).rejects.toMatchObject({
    code: 'SERVICE_DENIED',
  })
  await expect(rt.session('s', { args: { want: 1 << 30 } })).rejects.toMatchObject({
    code: 'INSUFFICIENT_QUOTA',
  })
  const ids = [...new Set(seen.map((e) => e.id))]
  expect(ids.map(path)).toEqual([
    ['CREATE_REQUESTED>CREATE_REQUESTED', 'CREATE_REQUESTED>DENIED'],
    ['CREATE_REQUESTED>CREATE_REQUESTED', 'CREATE_REQUESTED>INSUFFICIENT_QUOTA'],
  ])
  expect(rt.sessions()).toEqual([])
})

it('a server that dies ends its sessions: CAP_HANDED_OUT -> CLOSED', async () => {
  const d = await rt.spawn(fixture('kv_server.mjs'), { core: 1 })
  const s = await openWhenServed(rt, 'kv')
  await rt.kill(d)
  expect(await within(s.closed, 'closed')).toBe('server-exit')
  expect(path(s.id).at(-1)).toBe('CAP_HANDED_OUT>CLOSED')
})
