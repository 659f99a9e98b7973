// The binary spawn request (program URLs interned per core, argv/env only when
// given) and capability tokens kept as words: both ends agree, nothing made up
// passes, and a runtime spawns through them with argv and env intact.
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { MAX_PROGRAMS, SpawnDecoder, SpawnEncoder } from '../../dist/src/protocol/spawn_frame.js'
import { DomainCap, asCap, looksLikeCap, mintCap } from '../../dist/src/kernel/cap.js'
import { KernelError } from '../../dist/src/errors.js'
import { boot, type DomainCap as RuntimeCap } from 'multikernel'
import { within } from '../shared/bounded.js'

const A = 'file:///a.mjs'
const B = 'file:///b.mjs'

function send(
  enc: SpawnEncoder,
  url: string,
  argv: string[] = [],
  env = {},
): [number, string | null] {
  const v = enc.encode(url, argv, env)
  const t = enc.text
  enc.commit()
  return [v, t]
}

function code(f: () => unknown): string | undefined {
  try {
    f()
  } catch (err) {
    return err instanceof KernelError ? err.code : String(err)
  }
  return undefined
}

describe('binary spawn frames', () => {
  it('a URL travels once per core, then as its index; argv and env only when given', () => {
    const enc = new SpawnEncoder()
    const dec = new SpawnDecoder()
    const first = send(enc, A)
    expect(first[1]).toBe(A)
    expect(dec.decode(...first)).toEqual({ url: A, argv: [], env: {} })
    const again = send(enc, A)
    expect(again[1]).toBeNull()
    expect(dec.decode(...again)).toEqual({ url: A, argv: [], env: {} })
    const withArgs = send(enc, A, ['x', 'y z'], { K: 'v' })
    expect(withArgs[1]).not.toContain(A)
    expect(dec.decode(...withArgs)).toEqual({ url: A, argv: ['x', 'y z'], env: { K: 'v' } })
    const newWithArgs = send(enc, B, ['1'], {})
    expect(dec.decode(...newWithArgs)).toEqual({ url: B, argv: ['1'], env: {} })
    expect(dec.decode(...send(enc, B))).toEqual({ url: B, argv: [], env: {} })
  })

  it('an index is committed only once its frame was accepted', () => {
    const enc = new SpawnEncoder()
    enc.encode(A, [], {}) // refused: no commit
    const [v, t] = send(enc, A)
    expect(t).toBe(A)
    expect(new SpawnDecoder().decode(v, t).url).toBe(A)
  })

  it('past MAX_PROGRAMS, URLs travel inline and still decode', () => {
    const enc = new SpawnEncoder()
    const dec = new SpawnDecoder()
    for (let i = 0; i < MAX_PROGRAMS; i++) dec.decode(...send(enc, `file:///p${i}.mjs`))
    const [v, t] = send(enc, 'file:///late.mjs')
    expect(t).toBe('file:///late.mjs')
    expect(dec.decode(v, t).url).toBe('file:///late.mjs')
    expect(send(enc, 'file:///late.mjs')[1]).toBe('file:///late.mjs')
  })

  it('an index never named, or a malformed text, is PROTOCOL', () => {
    const dec = new SpawnDecoder()
    expect(code(() => dec.decode(5, null))).toBe('PROTOCOL')
    expect(code(() => dec.decode(0, null))).toBe('PROTOCOL')
    expect(code(() => dec.decode(1 << 24, null))).toBe('PROTOCOL')
    expect(code(() => dec.decode((1 << 24) | (1 << 25) | 1, '{'))).toBe('PROTOCOL')
    expect(code(() => dec.decode((1 << 24) | (1 << 25) | 1, '[1, [], {}]'))).toBe('PROTOCOL')
    expect(code(() => dec.decode((1 << 24) | (1 << 25) | 1, '["u", [1], {}]'))).toBe('PROTOCOL')
    expect(code(() => dec.decode((1 << 24) | (1 << 25) | 1, '["u", [], {"k": 1}]'))).toBe(
      'PROTOCOL',
    )
  })
})

describe('capability tokens as words', () => {
  it('the hex text round-trips, and all 128 bits are checked', () => {
    const cap = mintCap(7)
    expect(cap.token).toMatch(/^[0-9a-f]{32}$/)
    expect(new DomainCap(7, cap.token).sameToken(cap)).toBe(true)
    expect(asCap({ id: 7, token: cap.token } as { id: number }).sameToken(cap)).toBe(true)
    expect(asCap(structuredClone(cap) as { id: number }).sameToken(cap)).toBe(true)
    for (let digit = 0; digit < 32; digit++) {
      const t = cap.token
      const flipped = t.slice(0, digit) + (t[digit] === '0' ? '1' : '0') + t.slice(digit + 1)
      expect(new DomainCap(7, flipped).sameToken(cap)).toBe(false)
    }
    expect(new DomainCap(7, cap.token.toUpperCase()).sameToken(cap)).toBe(
      cap.token === cap.token.toUpperCase(),
    )
    expect(new DomainCap(7, 'forged').sameToken(new DomainCap(7, 'forged'))).toBe(false)
    expect(mintCap(8).sameToken(mintCap(8))).toBe(false)
    expect(looksLikeCap({ id: 1, token: 'x' })).toBe(true)
    expect(looksLikeCap({ id: 1 })).toBe(false)
    expect(Object.isFrozen(cap)).toBe(true)
  })

  it('a runtime spawns through both: argv, env, plain-data and cloned caps', async () => {
    const rt = await boot({ cores: 2 })
    try {
      const prog = fileURLToPath(new URL('./fixtures/behave.mjs', import.meta.url))
      for (let i = 0; i < 6; i++) {
        const d = await within(
          rt.spawn(prog, { core: i % 2, argv: ['return', String(i)], env: { I: String(i) } }),
          'spawn',
        )
        const plain = { id: d.id, token: d.token } as unknown as RuntimeCap
        expect(await within(rt.wait(plain), 'wait')).toMatchObject({ exitCode: i })
        const cloned = structuredClone(d)
        expect(rt.status(cloned).argv).toEqual(['return', String(i)])
      }
    } finally {
      await rt.shutdown()
    }
  })
})
