/**
 * The client domain of the ipc suite's domain-to-domain figures: it opens a session
 * to 'echo' (a server domain on the other core) and serves 'bench-client', whose
 * run() measures one round of calls from here, as a plain worker's client would.
 */
import type { DomainContext } from '../../src/domain/context.js'
import { latency, pipelined } from './rpc.js'

interface RunTask {
  mode: 'latency' | 'pipelined'
  count: number
  inflight: number
}

export default async function main(ctx: DomainContext): Promise<number> {
  const echo = await ctx.session('echo', { label: 'bench-client' })
  const call = (v: number): Promise<number> => echo.call('echo', v) as Promise<number>
  await ctx.serve('bench-client', {
    open: () => ({
      run: (t: RunTask) =>
        t.mode === 'latency' ? latency(call, t.count) : pipelined(call, t.count, t.inflight),
    }),
  })
  await ctx.ready()
  await new Promise((resolve) => ctx.stopSignal.addEventListener('abort', resolve))
  return 0
}
