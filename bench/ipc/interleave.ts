/**
 * Run contenders' rounds in turn (bench/lib/rounds.ts sessions): a warm-up round of
 * each, then `runs` measured rounds of each, interleaved, so ours and its peers meet
 * the same conditions on a shared machine. A contender may have a main-thread part
 * (the main thread as client): it runs once its worker says the round started.
 */
import type { TransferListItem } from 'node:worker_threads'
import type { QuietGate } from '../lib/cpu.js'
import { RoundSession, type RoundData } from '../lib/rounds.js'

const WORKER = new URL('./worker.js', import.meta.url)
const ROUND_TIMEOUT_MS = 120_000

export interface Contender {
  tasks: object[]
  transfers?: TransferListItem[][]
  /** The main thread's part of a round (its data goes first in the round's data). */
  main?: (round: number) => Promise<RoundData>
}

/** Each contender's measured rounds: data[round][worker] (a main part first). */
export async function interleave(
  contenders: Contender[],
  runs: number,
  quiet?: QuietGate,
): Promise<RoundData[][][]> {
  const sessions = contenders.map(
    (c) =>
      new RoundSession({
        worker: WORKER,
        tasks: c.tasks,
        transfers: c.transfers,
        rounds: runs + 1,
        roundTimeoutMs: ROUND_TIMEOUT_MS,
      }),
  )
  try {
    const out: RoundData[][][] = contenders.map(() => [])
    for (let r = 0; r <= runs; r++) {
      for (let i = 0; i < sessions.length; i++) {
        const main = contenders[i].main
        let data: RoundData[]
        if (main === undefined) {
          data = (await sessions[i].round(r === 0 ? undefined : quiet)).data
        } else {
          if (r > 0 && quiet) await quiet.wait()
          const round = sessions[i].round()
          round.catch(() => {}) // awaited below; a failure meanwhile is not unhandled
          const mine = await main(r + 1)
          data = [mine, ...(await round).data]
        }
        if (r > 0) out[i].push(data)
      }
    }
    return out
  } finally {
    await Promise.all(sessions.map((s) => s.close()))
  }
}

/** Main side: resolves once the worker stored `round` (or more) in the started word. */
export async function startedRound(word: Int32Array, round: number): Promise<void> {
  for (;;) {
    const v = Atomics.load(word, 0)
    if (v >= round) return
    const w = Atomics.waitAsync(word, 0, v, 50)
    if (w.async) await w.value
  }
}
