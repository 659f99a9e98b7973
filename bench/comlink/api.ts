/**
 * The object both sides of the comlink suite expose, the same code on the ring
 * side (a domain) and on the MessagePort side (a worker): so each figure compares
 * only the transport under comlink.
 */
import * as Comlink from 'comlink'

export interface BenchApi {
  /** The trivial call: its argument back. */
  ping(x: number): number
  /** A call that passes a callback (Comlink.proxy): called once, then released. */
  viaCallback(cb: (x: number) => number, x: number): Promise<number>
}

export const benchApi: BenchApi = {
  ping: (x: number): number => x,
  async viaCallback(cb: (x: number) => number, x: number): Promise<number> {
    const remote = cb as unknown as Comlink.Remote<(x: number) => number>
    const v = await remote(x)
    remote[Comlink.releaseProxy]()
    return v
  },
}
