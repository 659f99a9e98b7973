/**
 * comlink's own ceiling: a pair of endpoints in one thread that hand each message
 * object to the other side's listeners in a microtask, with no copy and no thread
 * hop. Both comlink halves (the wrap proxy and expose) still run for every call,
 * here on one thread, so this is the most any transport under comlink could give
 * this thread; the rings and the MessagePort are held against it.
 */
import type * as Comlink from 'comlink'

type Listener = (ev: { data: unknown }) => void

export function loopbackPair(): [Comlink.Endpoint, Comlink.Endpoint] {
  const a: Listener[] = []
  const b: Listener[] = []
  const end = (mine: Listener[], theirs: Listener[]): Comlink.Endpoint =>
    ({
      postMessage(data: unknown): void {
        queueMicrotask(() => {
          for (const l of theirs) l({ data })
        })
      },
      addEventListener(_type: string, l: Listener): void {
        mine.push(l)
      },
      removeEventListener(_type: string, l: Listener): void {
        const i = mine.indexOf(l)
        if (i >= 0) mine.splice(i, 1)
      },
    }) as unknown as Comlink.Endpoint
  return [end(a, b), end(b, a)]
}
