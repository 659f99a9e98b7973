/**
 * Node 20's own ES module loader calls a few realm intrinsics without its
 * primordials (measured: replacing any of these makes every later import() in the
 * worker fail or crash it): TextDecoder.prototype.decode (reading a module's
 * source), Promise.prototype.then, Function.prototype.call and apply, and the
 * global URL. A domain that replaced one would make every new program on its core
 * fail to load. So before importing a program the spawnd puts the originals back,
 * as taken at load, before any domain ran. (A domain's own replacement of them is
 * undone then; it already broke its neighbours' loads.)
 */
import { ObjectDefineProperty, ObjectGetOwnPropertyDescriptor } from '../src/intrinsics.js'

interface Kept {
  on: object
  key: string
  value: unknown
}

function keep(on: object, key: string): Kept {
  return { on, key, value: (on as Record<string, unknown>)[key] }
}

const kept: Kept[] = [
  keep(TextDecoder.prototype, 'decode'),
  keep(Promise.prototype, 'then'),
  keep(Function.prototype, 'call'),
  keep(Function.prototype, 'apply'),
  keep(globalThis, 'URL'),
]

/** Put back whichever of the loader's intrinsics a domain replaced (cold path: an import). */
export function restoreLoaderIntrinsics(): void {
  for (let i = 0; i < kept.length; i++) {
    const k = kept[i]
    const now = ObjectGetOwnPropertyDescriptor(k.on, k.key)
    if (now !== undefined && 'value' in now && now.value === k.value) continue
    try {
      ObjectDefineProperty(k.on, k.key, {
        value: k.value,
        writable: true,
        configurable: true,
        enumerable: false,
      })
    } catch {
      // Made non-configurable by a domain: the loads fail (LOAD), the spawnd goes on.
    }
  }
}
