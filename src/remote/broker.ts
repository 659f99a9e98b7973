/**
 * The connection to the NATS broker, the same for a runtime and its nodes: the
 * client's credentials and TLS options passed through, and reconnecting for ever
 * (a broker restart is survived; what was in flight is failed by the link, not
 * here).
 */
import { readFileSync } from 'node:fs'
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node'
import { KernelError } from '../errors.js'

/** How to reach and log in to the broker (as the NATS client takes them). */
export interface BrokerOptions {
  /** 'nats://host:4222' or several; a URL may carry `user:password@`. */
  servers: string | string[]
  user?: string
  pass?: string
  token?: string
  /** A NATS credentials file (JWT and nkey seed). */
  credsFile?: string
  /** TLS: the CA to trust, and a client certificate and key if the broker asks for one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
  /** Subject prefix of every message (default 'multikernel'); runtime and nodes must agree. */
  prefix?: string
}

const BROKER_KEYS = ['servers', 'user', 'pass', 'token', 'credsFile', 'tls', 'prefix']

/** The broker options' keys, for the callers' option checks. */
export const brokerKeys: readonly string[] = BROKER_KEYS

const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/

/** The subject prefix, checked. */
export function subjectPrefix(o: BrokerOptions): string {
  const p = o.prefix ?? 'multikernel'
  if (typeof p !== 'string' || !PREFIX.test(p)) {
    throw new TypeError('prefix must be subject tokens (letters, digits, _ and -) joined by dots')
  }
  return p
}

/** Check broker options before anything is made. */
export function checkBrokerOptions(o: BrokerOptions): void {
  const s = o.servers
  const list = Array.isArray(s) ? s : [s]
  if (list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) {
    throw new TypeError('servers must be a NATS URL or an array of them')
  }
  for (const k of ['user', 'pass', 'token', 'credsFile'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new TypeError(`${k} must be a string`)
  }
  subjectPrefix(o)
}

/** Connect (bounded by `timeoutMs`); REMOTE_UNREACHABLE when the broker cannot be reached. */
export async function connectBroker(
  o: BrokerOptions,
  name: string,
  timeoutMs: number,
): Promise<NatsConnection> {
  checkBrokerOptions(o)
  const opts: NodeConnectionOptions = {
    servers: o.servers,
    name,
    timeout: timeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Pings find a dead broker the OS has not told us about (a host gone).
    pingInterval: 5000,
    maxPingOut: 2,
  }
  if (o.user !== undefined) opts.user = o.user
  if (o.pass !== undefined) opts.pass = o.pass
  if (o.token !== undefined) opts.token = o.token
  if (o.credsFile !== undefined) {
    opts.authenticator = credsAuthenticator(new Uint8Array(readFileSync(o.credsFile)))
  }
  if (o.tls !== undefined) opts.tls = { ...o.tls }
  try {
    return await connect(opts)
  } catch (err) {
    throw new KernelError(
      'REMOTE_UNREACHABLE',
      `cannot reach the NATS broker at ${String(o.servers)}`,
      {
        cause: err,
      },
    )
  }
}
