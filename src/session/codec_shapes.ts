/**
 * Object shapes for the session codec's decoder. Adding properties one by one with
 * `o[k] = v` (k not known to the code) is a megamorphic store that V8 mostly sends to
 * the runtime, ~30 ns a property. Sessions send the same few record shapes again and
 * again, so a shape (its key list) seen twice gets a factory compiled once, an object
 * literal `{ "id": v[b], "name": v[b + 1] }`, which V8 builds from a boilerplate at
 * the speed of `{ id, name }` in source (msgpackr's "records" do the same). A literal
 * defines its properties, so no inherited setter runs; `__proto__` is written as a
 * computed key, which defines an own property instead of setting the prototype.
 *
 * Bounded: SLOTS shapes by hash, one per slot, the newest wins; objects with more
 * than MAX_KEYS keys are never compiled. If code generation is disallowed
 * (--disallow-code-generation-from-strings) the decoder keeps to plain stores.
 */
import { JSONStringify, SafeFunction } from '../intrinsics.js'

export type ShapeFactory = (values: unknown[], base: number) => object

interface Shape {
  keys: string[]
  make: ShapeFactory | null
}

const SLOTS = 256
export const MAX_SHAPE_KEYS = 64
const table: (Shape | undefined)[] = []
for (let i = 0; i < SLOTS; i++) table[i] = undefined
let codegen = true

/**
 * The factory for the object whose keys are keys[base, base + n) (`hash` mixes
 * them), or null the first time that shape is met (or when none can be made).
 */
export function shapeFactory(
  keys: readonly string[],
  base: number,
  n: number,
  hash: number,
): ShapeFactory | null {
  const slot = (hash ^ (hash >>> 8) ^ (hash >>> 16)) & (SLOTS - 1)
  const s = table[slot]
  if (s !== undefined && s.keys.length === n) {
    const known = s.keys
    let i = 0
    while (i < n && known[i] === keys[base + i]) i++
    if (i === n) {
      if (s.make === null && codegen) s.make = compile(known)
      return s.make
    }
  }
  const copy: string[] = []
  for (let i = 0; i < n; i++) copy[i] = keys[base + i]
  table[slot] = { keys: copy, make: null }
  return null
}

function compile(keys: readonly string[]): ShapeFactory | null {
  let body = 'return {'
  for (let i = 0; i < keys.length; i++) {
    // JSONStringify quotes any string into a valid JavaScript string literal.
    const name = keys[i] === '__proto__' ? '["__proto__"]' : JSONStringify(keys[i])
    body += `${name}: v[b + ${i}],`
  }
  body += '}'
  try {
    return new SafeFunction('v', 'b', body) as ShapeFactory
  } catch {
    codegen = false
    return null
  }
}
