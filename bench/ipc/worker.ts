/** The ipc suite's worker entry: one end of one measurement, served round by round. */
import { workerData } from 'node:worker_threads'
import { serveRounds, type RoundTask } from '../lib/rounds.js'
import { rpcClient, rpcServer } from './rpc.js'
import { streamSink, streamSource } from './stream.js'
import type { IpcTask } from './tasks.js'

const task = workerData as IpcTask & RoundTask
const fn =
  task.kind === 'rpc'
    ? task.side === 'client'
      ? rpcClient(task)
      : rpcServer(task)
    : task.side === 'source'
      ? streamSource(task)
      : streamSink(task)
// A serving end waits for traffic with nothing pending, and a port keeps its process
// alive only while something of its own waits: the harness holds the worker open.
const alive = setInterval(() => {}, 1 << 30)
await serveRounds(task, fn)
clearInterval(alive)
