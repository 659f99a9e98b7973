/**
 * comlink's Node adapter, typed. The package ships it as a UMD file whose
 * module.exports is the function itself, while its .d.ts declares a default export;
 * under NodeNext that default is `module.exports.default`, so the import is retyped
 * here once.
 */
import type { MessagePort, Worker } from 'node:worker_threads'
import type { Endpoint } from 'comlink'
import adapter from 'comlink/dist/umd/node-adapter.js'

export const nodeEndpoint = adapter as unknown as (nep: MessagePort | Worker) => Endpoint
