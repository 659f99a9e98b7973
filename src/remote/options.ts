/**
 * boot's `remote` option: the broker, the nodes to join and the shared secret,
 * checked before anything is made.
 */
import { brokerKeys, checkBrokerOptions, type BrokerOptions } from './broker.js'
import { NAME_PATTERN, secretFile, secretFrom, type Secret } from './handshake.js'

/** Remote cores: spawnds on other hosts (`multikernel node`) behind a NATS broker. */
export interface RemoteOptions extends BrokerOptions {
  /**
   * The nodes to join, by name: boot waits (bootTimeoutMs) until each has joined.
   * 'any': every node that says hello with the secret joins, whenever it comes.
   */
  nodes: readonly string[] | 'any'
  /**
   * The secret shared with the nodes (at least 16 bytes). Default: the file
   * `secretFile`, else the environment's MULTIKERNEL_SECRET.
   */
  secret?: string
  secretFile?: string
  /** Heartbeats each way; a node silent for 4 of them is lost. Default 1000 ms. */
  heartbeatMs?: number
  /** How long a (re)join waits for the node's hello and answer. Default: bootTimeoutMs. */
  joinTimeoutMs?: number
}

/** The checked `remote` option, as the remote links take it. */
export interface RemoteConfig {
  broker: BrokerOptions
  secret: Secret
  /** Node names to join (boot waits for them), or 'any' node that says hello. */
  nodes: readonly string[] | 'any'
  heartbeatMs: number
  joinTimeoutMs: number
}

const REMOTE_KEYS = new Set([
  ...brokerKeys,
  'nodes',
  'secret',
  'secretFile',
  'heartbeatMs',
  'joinTimeoutMs',
])

function ms(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 10 || v > 3_600_000) {
    throw new RangeError(`remote.${name} must be an integer number of ms from 10 to 3600000`)
  }
  return v
}

/** The checked configuration of boot's `remote` option. */
export function remoteConfig(v: unknown, bootTimeoutMs: number): RemoteConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError('remote must be an object: { servers, nodes, secret }')
  }
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!REMOTE_KEYS.has(k)) throw new TypeError(`unknown remote option '${k}'`)
  }
  const broker = o as unknown as BrokerOptions
  checkBrokerOptions(broker)
  const nodes = o.nodes
  if (nodes !== 'any') {
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new TypeError("remote.nodes must be a non-empty array of node names, or 'any'")
    }
    for (const n of nodes) {
      if (typeof n !== 'string' || !NAME_PATTERN.test(n)) {
        throw new TypeError(
          `remote.nodes: '${String(n)}' is not a node name (letters, digits, _ and -)`,
        )
      }
    }
    if (new Set(nodes).size !== nodes.length) throw new TypeError('remote.nodes names a node twice')
  }
  let secret
  if (o.secret !== undefined) secret = secretFrom(o.secret, 'remote.secret')
  else if (o.secretFile !== undefined) {
    if (typeof o.secretFile !== 'string') throw new TypeError('remote.secretFile must be a path')
    secret = secretFile(o.secretFile)
  } else if (process.env.MULTIKERNEL_SECRET !== undefined) {
    secret = secretFrom(process.env.MULTIKERNEL_SECRET, 'MULTIKERNEL_SECRET')
  } else {
    throw new TypeError(
      'remote needs a shared secret: remote.secret, remote.secretFile or MULTIKERNEL_SECRET',
    )
  }
  return {
    broker: { ...broker },
    secret,
    nodes: nodes === 'any' ? 'any' : [...(nodes as string[])],
    heartbeatMs: ms('heartbeatMs', o.heartbeatMs, 1000),
    joinTimeoutMs: ms('joinTimeoutMs', o.joinTimeoutMs, bootTimeoutMs),
  }
}
