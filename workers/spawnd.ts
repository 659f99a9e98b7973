/**
 * spawnd: the worker entry point of one core (one worker_thread). Its boot: read
 * the boot data the process manager handed it and drop it from workerData, make
 * the spawnd (loop.ts; what it does per request: requests.ts), install the fault
 * handlers that end a domain whose stray throw or rejection is traced to it
 * (faults.ts), and run the loop until SHUTDOWN.
 *
 * Uses ring, protocol and domain only; never kernel or link. Every intrinsic the
 * spawnd calls is its own reference, taken at load before any domain runs
 * (src/intrinsics.ts): the imports below take them before this module's body runs.
 */
import { workerData } from 'node:worker_threads'
import { ExitHow } from '../src/protocol/opcodes.js'
import type { SpawndBoot } from '../src/protocol/spawnd_boot.js'
import { ObjectKeys } from '../src/intrinsics.js'
import { installFaultHandlers } from './faults.js'
import { Spawnd } from './loop.js'

// Read the boot data, then drop it from workerData: domains share this realm, and
// the rings must not be one import away from them.
const boot: SpawndBoot = { ...(workerData as SpawndBoot) }
for (const k of ObjectKeys(workerData as object)) delete (workerData as Record<string, unknown>)[k]
const spawnd = new Spawnd(boot)
// A stray throw or rejection traced to a domain ends that domain (exit 1, 'error').
installFaultHandlers((d, err) => spawnd.finish(d, ExitHow.THREW, 1, err))
await spawnd.run()
