/**
 * comlink's 'proxy' transfer handler, replaced. comlink's own makes a
 * MessageChannel for every value passed with `Comlink.proxy` and sends a port;
 * this one leaves a placeholder (ProxyOut) that the session's multiplexer binds to
 * a sub-channel number as the message goes out, and turns the number that arrives
 * (ProxyIn) into `Comlink.wrap` of that sub-channel (mux.ts).
 *
 * Transfer handlers are global in comlink and are not told which endpoint a value
 * goes to. So the MessageChannel path stays for a thread that has no session
 * carrying comlink, and a port that arrives is still wrapped as comlink does. A
 * thread that has both may not pass proxies over a MessagePort (the placeholder is
 * refused by structured clone, DataCloneError): README, "comlink over the rings".
 */
import * as Comlink from 'comlink'
import { liveMuxes, ProxyIn, ProxyOut } from './mux.js'

type Handler = Comlink.TransferHandler<unknown, unknown>

const original = Comlink.transferHandlers.get('proxy') as Handler

const ringProxyHandler: Handler = {
  canHandle: (v: unknown): v is unknown => original.canHandle(v),
  serialize(obj: unknown): ReturnType<Handler['serialize']> {
    if (liveMuxes() === 0) return original.serialize(obj)
    return [new ProxyOut(obj as object), []]
  },
  deserialize(v: unknown): unknown {
    if (v instanceof ProxyIn) return Comlink.wrap(v.mux.importChannel(v.channel))
    return original.deserialize(v)
  },
}

/** Put the ring handler in place of comlink's (idempotent; done when this module loads). */
export function installProxyHandler(): void {
  // Map.set on an existing key keeps its place: 'proxy' is still asked first.
  Comlink.transferHandlers.set('proxy', ringProxyHandler)
}

/** Put comlink's own handler back (every proxy then needs a MessageChannel again). */
export function uninstallProxyHandler(): void {
  Comlink.transferHandlers.set('proxy', original)
}
