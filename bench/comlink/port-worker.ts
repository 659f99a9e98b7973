/**
 * The MessagePort side of the comlink suite: a worker that exposes the same object
 * with comlink on the MessagePort it is given (comlink's own transport in Node).
 */
import { workerData, type MessagePort } from 'node:worker_threads'
import * as Comlink from 'comlink'
import { benchApi } from './api.js'

const { port } = workerData as { port: MessagePort }
Comlink.expose(benchApi, port as unknown as Comlink.Endpoint)
