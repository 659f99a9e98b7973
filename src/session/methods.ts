/**
 * A server's session object as a method table: the names a client may call and
 * the functions, by index (the index travels in each CALL frame, not the name).
 * Own and inherited function-valued properties, up to Object.prototype, except
 * the constructor: open() may return a plain object or a class instance.
 */
export interface MethodTable {
  names: string[]
  fns: ((...args: unknown[]) => unknown)[]
}

export function methodTable(obj: object): MethodTable {
  const names: string[] = []
  const fns: ((...args: unknown[]) => unknown)[] = []
  const seen = new Set<string>()
  for (let o: object | null = obj; o !== null && o !== Object.prototype;) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (k === 'constructor' || seen.has(k)) continue
      seen.add(k)
      const d = Object.getOwnPropertyDescriptor(o, k)
      // Read data properties only: a getter is the server's code, not a method.
      if (d !== undefined && 'value' in d && typeof d.value === 'function') {
        names.push(k)
        fns.push(d.value as (...args: unknown[]) => unknown)
      }
    }
    o = Object.getPrototypeOf(o) as object | null
  }
  return { names, fns }
}
