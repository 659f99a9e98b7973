// A stranger on the broker: a bare NATS client that reads everything under
// `multikernel.>` and sends what it likes. With a real nats-server and real
// `multikernel node` children: garbage on every subject it saw, batches forged
// with a wrong key, captured batches replayed or altered, captured joins replayed,
// hellos with a wrong MAC, and a node with the wrong secret. Nothing it sends runs
// a program, ends a link or crashes anything. Each refusal has its positive
// control beside it: the same bytes sealed with the right key, or the right nonce,
// do take effect, so what refuses them is the check under test.
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from 'multikernel'
import { epochKeys, nonce, seal, unseal, type Hello } from '../../dist/src/remote/handshake.js'
import { BatchWriter, CONTROL, openBatch } from '../../dist/src/remote/wire.js'
import { Op } from '../../dist/src/protocol/opcodes.js'
import { SpawnEncoder } from '../../dist/src/protocol/spawn_frame.js'
import { frameHeader } from '../../dist/src/protocol/frame.js'
import { startBroker, stopAll, type Broker, type NodeProcess } from '../shared/nats.js'
import {
  EventLog,
  Scratch,
  bootRemote,
  node,
  program,
  rejectsWith,
  secret,
  sleep,
  until,
  within,
} from './helpers.js'

const KEY = secret()
const SECRET = Buffer.from(KEY, 'utf8')
const marker = program('marker.mjs')

interface Captured {
  subject: string
  data: Uint8Array
}

let broker: Broker
let stranger: NatsConnection
const captured: Captured[] = []
let s1: NodeProcess
let rt: Runtime
let log: EventLog
let s: Scratch
/** The runtime's id on the broker (its subjects' token), read off the wire. */
let rtId: string

beforeAll(async () => {
  broker = await startBroker()
  s = new Scratch()
  // noEcho: what the stranger sends is not captured again as if someone else sent it.
  stranger = await within(connect({ servers: broker.url, noEcho: true }), 'stranger connects')
  stranger.subscribe('multikernel.>', {
    callback: (_e, m) => {
      captured.push({ subject: m.subject, data: m.data.slice() })
    },
  })
  await within(stranger.flush(), 'stranger subscribed')
  s1 = await node(broker, 's1', 1, KEY)
  rt = await bootRemote(broker, ['s1'], KEY)
  log = new EventLog(rt)
  const join = await until(
    () => captured.find((c) => /^multikernel\.rt\.[^.]+\.join$/.test(c.subject)),
    'the stranger saw the joined answer',
  )
  rtId = join.subject.split('.')[2]
})

afterAll(async () => {
  log?.close()
  await within(rt?.shutdown() ?? Promise.resolve(), 'shutdown')
  await within(stranger?.close() ?? Promise.resolve(), 'stranger closes')
  await stopAll()
  s?.remove()
})

/** A SPAWN frame of marker.mjs writing to `file`, as a process manager writes it. */
function spawnBatch(w: BatchWriter, file: string, domainId: number): void {
  const enc = new SpawnEncoder()
  const value = enc.encode(marker.href, [file, 'forged'], {})
  const h = frameHeader()
  h.op = Op.SPAWN
  h.tag = 1
  h.domainId = domainId
  h.value = value
  w.frame(h, enc.text)
}

/**
 * Every message the stranger sent has been handled by the node's core 1: the
 * stranger's are ahead of the runtime's next request on the node's connection
 * (the broker keeps the order it took them in), so a marker spawn by the
 * runtime, run to its end, comes after them; then a little settling time for a
 * domain the forged frames might have started (no duration is asserted).
 */
async function nodeBarrier(r: Runtime, core: number): Promise<void> {
  await within(stranger.flush(), 'stranger flush')
  const file = s.path(`barrier-${randomBytes(4).toString('hex')}`)
  const d = await within(r.spawn(marker, { core, argv: [file, 'barrier'] }), 'barrier spawn')
  await within(r.wait(d), 'barrier wait')
  expect(existsSync(file)).toBe(true)
  await sleep(300)
}

/** The node and its link are as they were: joined, never lost, serving. */
async function expectLinkIntact(): Promise<void> {
  expect(rt.nodes()[0]).toMatchObject({ name: 's1', joined: true })
  expect(log.of('node-lost')).toEqual([])
  expect(log.of('core-failed')).toEqual([])
  expect(s1.child.exitCode).toBeNull()
  expect(s1.output()).not.toMatch(/left the runtime/)
  await within(rt.ping(1), 'ping(1)')
}

describe('a stranger on the broker', () => {
  it('garbage on every subject it saw: nothing crashes, the node stays joined, refusals are counted', async () => {
    await within(rt.ping(1), 'ping(1) so the core subjects are seen')
    await until(
      () => captured.some((c) => c.subject === `multikernel.rt.${rtId}.s1.0`),
      'a reply batch seen',
    )
    const wanted = [
      'multikernel.hello',
      'multikernel.node.s1.join',
      'multikernel.node.s1.0',
      'multikernel.node.s1.ctl',
      `multikernel.rt.${rtId}.join`,
      `multikernel.rt.${rtId}.s1.0`,
      `multikernel.rt.${rtId}.s1.ctl`,
    ]
    // (Heartbeats show the ctl subjects soon.)
    await until(
      () => wanted.every((w) => captured.some((c) => c.subject === w)),
      'every subject of the link seen',
    )
    const subjects = [...new Set(captured.map((c) => c.subject))]
    expect(subjects.sort()).toEqual([...wanted].sort())
    const max = stranger.info!.max_payload
    const withMagic = randomBytes(200)
    withMagic.writeUInt32LE(0x3142_4b4d, 0)
    const wrongKey = new BatchWriter(max)
    spawnBatch(wrongKey, s.path('garbage-marker'), 4242)
    const payloads: Uint8Array[] = [
      new Uint8Array(0),
      randomBytes(1),
      randomBytes(31),
      randomBytes(32),
      withMagic,
      randomBytes(4096),
      randomBytes(max),
      wrongKey.seal(0, 1, randomBytes(32)),
      Buffer.concat([randomBytes(16), Buffer.from('{"t":"hello","name":"x","cores":1}')]),
    ]
    let toRuntimeLink = 0
    for (const subject of subjects) {
      for (const p of payloads) {
        stranger.publish(subject, p)
        if (subject.startsWith(`multikernel.rt.${rtId}.s1.`)) toRuntimeLink++
      }
      await within(stranger.flush(), 'flush')
    }
    // Subjects nobody uses, under both prefixes, too.
    for (const subject of [
      `multikernel.rt.${rtId}.s1.7`,
      `multikernel.rt.${rtId}.nobody.0`,
      `multikernel.rt.${rtId}`,
      'multikernel.node.s1.7',
      'multikernel.node.s1',
    ]) {
      for (const p of payloads) stranger.publish(subject, p)
      if (subject.startsWith(`multikernel.rt.${rtId}.s1.`)) toRuntimeLink += payloads.length
    }
    await within(stranger.flush(), 'flush')
    await nodeBarrier(rt, 1)
    await expectLinkIntact()
    // Every message that reached the runtime's end of the link was refused and counted.
    await until(() => rt.nodes()[0].refused >= toRuntimeLink, 'refusals counted')
    expect(rt.nodes()[0].refused).toBe(toRuntimeLink)
    expect(existsSync(s.path('garbage-marker'))).toBe(false)
    const d = await within(rt.spawn(marker, { core: 1, argv: [s.path('after-garbage')] }), 'spawn')
    expect(await within(rt.wait(d), 'wait')).toMatchObject({ exitCode: 0 })
    expect(s.lines('after-garbage')).toHaveLength(1)
  })

  it('a batch forged with a wrong key asking for a SPAWN: the program never runs', async () => {
    const file = s.path('forged-marker')
    // Whatever the link's next sequence number is, one of these carries it.
    const seen = captured
      .filter((c) => /^multikernel\.node\.s1\.(\d+|ctl)$/.test(c.subject))
      .map((c) => openSeq(c.data))
    const next = Math.max(0, ...seen) + 1
    const w = new BatchWriter(1 << 20)
    for (const key of [randomBytes(32), epochKeys(randomBytes(32), 'a', 'b').toNode]) {
      for (let seq = Math.max(1, next - 5); seq < next + 200; seq++) {
        spawnBatch(w, file, 5000 + seq)
        stranger.publish('multikernel.node.s1.0', w.seal(0, seq, key))
      }
    }
    await nodeBarrier(rt, 1)
    expect(existsSync(file)).toBe(false)
    await expectLinkIntact()
  })

  it('captured batches replayed, or altered, are refused: the program does not run again', async () => {
    const file = s.path('replay-marker')
    const from = captured.length
    const d = await within(rt.spawn(marker, { core: 1, argv: [file, 'real'] }), 'real spawn')
    expect(await within(rt.wait(d), 'real wait')).toMatchObject({ exitCode: 0 })
    await within(rt.ping(1), 'ping(1)')
    expect(s.lines('replay-marker')).toHaveLength(1)
    const exitedBefore = log.of('exited').filter((e) => e.domainId === d.id).length
    expect(exitedBefore).toBe(1)
    // The batches of that spawn, both ways, as the stranger saw them.
    const window = captured.slice(from)
    const toNode = window.filter((c) => c.subject.startsWith('multikernel.node.s1.'))
    const toRuntime = window.filter((c) => c.subject.startsWith(`multikernel.rt.${rtId}.s1.`))
    const spawn = toNode.find((c) => Buffer.from(c.data).includes(Buffer.from(file)))
    expect(spawn, 'the SPAWN batch was captured').toBeDefined()
    rmSync(file)

    // Replayed, in order, to both ends; and reflected: each end's batches sent
    // back to it on the other's subjects (the keys differ per direction).
    const refusedBefore = rt.nodes()[0].refused
    for (const c of toNode) stranger.publish(c.subject, c.data)
    for (const c of toRuntime) stranger.publish(c.subject, c.data)
    for (const c of toRuntime)
      stranger.publish(c.subject.replace(`rt.${rtId}.s1.`, 'node.s1.'), c.data)
    for (const c of toNode)
      stranger.publish(c.subject.replace('node.s1.', `rt.${rtId}.s1.`), c.data)
    await nodeBarrier(rt, 1)
    expect(existsSync(file)).toBe(false)
    const sentToRuntime = toRuntime.length + toNode.length
    await until(
      () => rt.nodes()[0].refused >= refusedBefore + sentToRuntime,
      'replays to the runtime refused',
    )
    expect(rt.nodes()[0].refused).toBe(refusedBefore + sentToRuntime)
    // The replayed EXIT did not end the domain a second time.
    expect(log.of('exited').filter((e) => e.domainId === d.id)).toHaveLength(1)

    // Altered: a byte flipped in the frames, in the MAC, in the core, or a fresh
    // sequence number written over the old one.
    const variants: Uint8Array[] = []
    const flip = (at: number): Uint8Array => {
      const b = spawn!.data.slice()
      b[at] ^= 0x01
      return b
    }
    variants.push(flip(spawn!.data.length - 3), flip(40), flip(16), flip(31), flip(4))
    for (const seq of [openSeq(spawn!.data) + 1000, 2 ** 40]) {
      const b = spawn!.data.slice()
      const v = new DataView(b.buffer)
      v.setUint32(8, seq >>> 0, true)
      v.setUint32(12, Math.floor(seq / 2 ** 32), true)
      variants.push(b)
    }
    for (const b of variants) stranger.publish(spawn!.subject, b)
    await nodeBarrier(rt, 1)
    expect(existsSync(file)).toBe(false)
    // A verified batch that skips numbers would end the link (a batch lost): an
    // altered one never gets that far.
    await expectLinkIntact()
  })
})

/** The sequence number in a batch's header (no check). */
function openSeq(b: Uint8Array): number {
  if (b.length < 16) return 0
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return v.getUint32(8, true) + v.getUint32(12, true) * 2 ** 32
}

/**
 * The test plays a runtime that knows the secret, against a node of its own: it
 * joins the node as a runtime would, then seals batches itself, so it knows the
 * exact next sequence number: the most a forger could hope for.
 */
class PlayedRuntime {
  readonly id = `tester${randomBytes(4).toString('hex')}`
  private txSeq = 0
  keys!: { toNode: Buffer; toRuntime: Buffer }
  readonly w = new BatchWriter(1 << 20)

  constructor(readonly name: string) {}

  /** Join the node on its newest hello (captured after `from`). */
  async join(from: number): Promise<void> {
    const hello = await until(() => {
      for (let i = captured.length - 1; i >= from; i--) {
        const c = captured[i]
        if (c.subject !== 'multikernel.hello') continue
        const m = unseal(SECRET, c.data)
        if (m?.t === 'hello' && m.name === this.name) return m
      }
      return undefined
    }, `a hello from ${this.name}`)
    const mine = nonce()
    const seen = captured.length
    stranger.publish(
      `multikernel.node.${this.name}.join`,
      seal(SECRET, {
        t: 'join',
        runtime: this.id,
        nonce: mine,
        node: (hello as Hello).nonce,
        heartbeatMs: 60_000,
        core: 0,
      }),
    )
    await until(
      () =>
        captured
          .slice(seen)
          .some(
            (c) =>
              c.subject === `multikernel.rt.${this.id}.join` &&
              unseal(SECRET, c.data)?.t === 'joined',
          ),
      `${this.name} answers the join`,
    )
    this.keys = epochKeys(SECRET, (hello as Hello).nonce, mine)
  }

  /** A SPAWN of marker.mjs writing `file`, sealed under `key` with the next number (or `seq`). */
  spawn(file: string, key = this.keys.toNode, seq = this.txSeq + 1): Uint8Array {
    spawnBatch(this.w, file, 100 + seq)
    return this.w.seal(0, seq, key)
  }

  send(batch: Uint8Array): void {
    stranger.publish(`multikernel.node.${this.name}.0`, batch)
  }

  /** The batch was accepted: our next number moves on. */
  took(): void {
    this.txSeq++
  }

  bye(): void {
    const h = frameHeader()
    this.w.frame(h, JSON.stringify({ t: 'bye' }))
    stranger.publish(
      `multikernel.node.${this.name}.ctl`,
      this.w.seal(CONTROL, ++this.txSeq, this.keys.toNode),
    )
  }
}

describe('exactly the next sequence number, against a node the test joined itself', () => {
  it('sealed with the right key it runs; forged, replayed or altered it does not', async () => {
    const from = captured.length
    const ctl = await node(broker, 'ctl', 1, KEY)
    const p = new PlayedRuntime('ctl')
    await p.join(from)
    await ctl.waitFor(`node ctl joined runtime ${p.id}`)

    // A wrong key at exactly the next number: refused...
    p.send(p.spawn(s.path('ctl-forged'), randomBytes(32)))
    // ...and altered: the right key, the next number, one byte of the text flipped.
    const altered = p.spawn(s.path('ctl-altered'))
    altered[altered.length - 5] ^= 0x02
    p.send(altered)
    // The right key at the next number: runs. The node is still waiting for exactly
    // this number, so the refusals above did not consume it.
    const good = p.spawn(s.path('ctl-good'))
    p.send(good)
    p.took()
    await until(() => s.lines('ctl-good').length === 1, 'the well-sealed spawn ran')
    // Its reply comes back sealed under the node's key.
    await until(
      () =>
        captured.some(
          (c) =>
            c.subject === `multikernel.rt.${p.id}.ctl.0` &&
            openBatch(c.data, p.keys.toRuntime) !== null,
        ),
      'a reply that verifies under the runtime key',
    )
    // Replayed: the same batch again, and again.
    p.send(good)
    p.send(good)
    // The next one, well sealed, runs: a barrier for everything before it.
    p.send(p.spawn(s.path('ctl-next')))
    p.took()
    await until(() => s.lines('ctl-next').length === 1, 'the next well-sealed spawn ran')
    await sleep(300)
    expect(existsSync(s.path('ctl-forged'))).toBe(false)
    expect(existsSync(s.path('ctl-altered'))).toBe(false)
    expect(s.lines('ctl-good')).toHaveLength(1)
    expect(ctl.output()).not.toMatch(/left the runtime/)
    p.bye()
    await ctl.waitFor('node ctl left the runtime: the runtime left')
    await within(ctl.kill('SIGTERM'), 'ctl stops')
  })
})

describe('hellos, joins and secrets', () => {
  it('a hello with a wrong MAC, or from a node with the wrong secret, joins nothing; a replayed hello is a join the node ignores', async () => {
    const w1 = await node(broker, 'w1', 1, secret())
    const rtAny = await bootRemote(broker, 'any', KEY, { remote: { joinTimeoutMs: 2000 } })
    try {
      const anyLog = new EventLog(rtAny)
      const from = captured.length
      const forged: Hello = { t: 'hello', name: 'ghost', cores: 2, nonce: nonce() }
      stranger.publish('multikernel.hello', seal(randomBytes(24), forged))
      // A truncated MAC, and the right MAC on other bytes.
      const good = seal(SECRET, { ...forged, name: 'ghost2' })
      stranger.publish('multikernel.hello', good.subarray(1))
      const other = Buffer.from(good)
      other[other.length - 3] ^= 0x01
      stranger.publish('multikernel.hello', other)
      // Positive control, sent last: well signed, it makes the runtime send a join.
      stranger.publish('multikernel.hello', good)
      await until(
        () => captured.slice(from).some((c) => c.subject === 'multikernel.node.ghost2.join'),
        'the runtime joins the well-signed ghost2',
      )
      // w1 says hello every 500 ms: several reached the runtime by now.
      await until(
        () => captured.slice(from).filter((c) => c.subject === 'multikernel.hello').length >= 8,
        'hellos go by',
      )
      const joins = captured.slice(from).filter((c) => c.subject.endsWith('.join'))
      expect(joins.map((c) => c.subject)).toEqual(['multikernel.node.ghost2.join'])
      expect(rtAny.nodes().map((n) => n.name)).toEqual(['ghost2'])
      expect(rtAny.nodes()[0]).toMatchObject({ cores: [], joined: false })
      expect(rtAny.cores).toBe(1)
      expect(w1.output()).not.toMatch(/joined/)

      // Every joined answer the stranger saw, replayed to both runtimes: no join is
      // pending for their nonces, so nothing happens.
      for (const c of captured.filter((x) => /^multikernel\.rt\.[^.]+\.join$/.test(x.subject))) {
        stranger.publish(c.subject, c.data)
        stranger.publish(c.subject.replace(/rt\.[^.]+\./, `rt.${rtId}.`), c.data)
      }

      // s1's first hello, replayed: the runtime sends a join with its old nonce,
      // which s1 (joined elsewhere, with a fresh nonce since) ignores.
      const oldHello = captured.find(
        (c) =>
          c.subject === 'multikernel.hello' &&
          unseal(SECRET, c.data)?.t === 'hello' &&
          (unseal(SECRET, c.data) as Hello).name === 's1',
      )!
      const mark = captured.length
      stranger.publish('multikernel.hello', oldHello.data)
      await until(
        () => captured.slice(mark).some((c) => c.subject === 'multikernel.node.s1.join'),
        'the runtime joins the replayed s1',
        20_000,
      )
      await sleep(300)
      expect(s1.output().match(/joined runtime/g)).toHaveLength(1)
      expect(anyLog.of('node-joined')).toEqual([])
      await expectLinkIntact()
      anyLog.close()
    } finally {
      await within(rtAny.shutdown(), 'shutdown of the any runtime')
    }
  })

  it('a node with the wrong secret never joins: a named boot fails REMOTE_UNREACHABLE', async () => {
    await rejectsWith(
      bootRemote(broker, ['w1'], KEY, { bootTimeoutMs: 2000 }),
      'REMOTE_UNREACHABLE',
    )
  })

  it('a captured join replayed to the node once it is free, or after it rejoined: no effect', async () => {
    const joins = captured.filter((c) => c.subject === 'multikernel.node.s1.join')
    expect(joins.length).toBeGreaterThanOrEqual(1)
    const from = captured.length
    await within(rt.shutdown(), 'shutdown')
    await s1.waitFor('node s1 left the runtime: the runtime left')
    // s1 is free now, saying hello with a fresh nonce: the old joins name an old one.
    for (const c of joins) stranger.publish(c.subject, c.data)
    // Positive control, after them on the same connection: a join with its
    // current nonce takes it.
    const p = new PlayedRuntime('s1')
    await p.join(from)
    await s1.waitFor(`node s1 joined runtime ${p.id}`)
    const lines = s1.output().match(/joined runtime \S+/g)
    expect(lines).toEqual([`joined runtime ${rtId}`, `joined runtime ${p.id}`])
    // Joined: the old joins again, and the played runtime's own join again.
    for (const c of captured.filter((x) => x.subject === 'multikernel.node.s1.join')) {
      stranger.publish(c.subject, c.data)
    }
    await within(stranger.flush(), 'flush')
    p.send(p.spawn(s.path('s1-after')))
    p.took()
    await until(() => s.lines('s1-after').length === 1, 's1 serves the played runtime')
    expect(s1.output().match(/joined runtime \S+/g)).toHaveLength(2)
    expect(s1.output().match(/left the runtime/g)).toHaveLength(1)
    p.bye()
    await s1.waitFor(/left the runtime: the runtime left[\s\S]*left the runtime: the runtime left/)
  })
})

describe('old hellos replayed while a node comes back', () => {
  it('do not keep it from rejoining: a hello whose nonce was joined once is ignored', async () => {
    const from = captured.length
    let rj = await node(broker, 'rj', 1, KEY)
    const r = await bootRemote(broker, ['rj'], KEY, {
      supervisor: { coreRestart: { backoff: [0, 1], maxRestarts: 1000, withinMs: 60_000 } },
      remote: { joinTimeoutMs: 2000 },
    })
    const rlog = new EventLog(r)
    let flood: NodeJS.Timeout | undefined
    try {
      const hellos = captured
        .slice(from)
        .filter(
          (c) =>
            c.subject === 'multikernel.hello' && (unseal(SECRET, c.data) as Hello)?.name === 'rj',
        )
      expect(hellos.length).toBeGreaterThanOrEqual(1)
      await within(rj.kill('SIGKILL'), 'rj killed')
      await rlog.wait('node-lost', (e) => e.node === 'rj')
      // The stranger replays rj's old hellos, over and over, while it comes back.
      flood = setInterval(() => {
        for (const h of hellos) stranger.publish('multikernel.hello', h.data)
      }, 1)
      rj = await node(broker, 'rj', 1, KEY)
      await rlog.wait('core-restarted', (e) => e.core === 1)
      await within(r.ping(1), 'ping(1)')
      expect(r.nodes()).toEqual([{ name: 'rj', cores: [1], joined: true, refused: 0 }])
    } finally {
      clearInterval(flood)
      rlog.close()
      await within(r.shutdown(), 'shutdown')
      await within(rj.kill('SIGTERM'), 'rj stops')
    }
  })
})
