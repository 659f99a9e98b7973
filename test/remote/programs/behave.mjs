// A domain whose ending is chosen by argv (it runs on a node: another process, so
// it reports through files, never a BroadcastChannel):
//   return <code> | exit <code> | throw <message> | sleep | until <file> <code>
//   graceful <code>      runs until asked to stop (ctx.stopSignal), then ends with <code>
//   spin                 a synchronous loop: the whole core hangs
//   process-exit <code>  process.exit inside the worker: the whole core dies
// With env.STARTED it appends "<domainId> <core>" to that file once main runs.
import { appendFileSync, existsSync } from 'node:fs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function main(ctx) {
  if (ctx.env.STARTED !== undefined)
    appendFileSync(ctx.env.STARTED, `${ctx.domainId} ${ctx.core}\n`)
  const [mode, arg, code] = ctx.argv
  switch (mode) {
    case 'return':
      return Number(arg)
    case 'exit':
      ctx.exit(Number(arg))
      throw new Error('ctx.exit returned')
    case 'throw':
      throw new Error(arg)
    case 'sleep':
      return new Promise((resolve) => {
        if (ctx.signal.aborted) resolve(0)
        else ctx.signal.addEventListener('abort', () => resolve(0))
      })
    case 'until': {
      // Bounded: a test that forgets the file fails instead of leaving a domain behind.
      const end = Date.now() + 30_000
      while (!existsSync(arg) && !ctx.signal.aborted && Date.now() < end) await sleep(5)
      return Number(code)
    }
    case 'graceful':
      await new Promise((resolve) => {
        if (ctx.stopSignal.aborted) resolve()
        else ctx.stopSignal.addEventListener('abort', () => resolve())
      })
      return Number(arg)
    case 'spin':
      for (;;) {
        // Never yields: the spawnd stops answering.
      }
    case 'process-exit':
      process.exit(Number(arg))
      break
    default:
      throw new Error(`unknown mode ${mode}`)
  }
}
