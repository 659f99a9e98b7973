/**
 * `multikernel node`: run spawnds on this host and offer them to a runtime through
 * a NATS broker (src/remote/node.ts). It runs until SIGINT or SIGTERM, leaving its
 * runtime cleanly (the runtime fails its cores at once instead of waiting for
 * silence).
 */
import { hostname } from 'node:os'
import type { Command } from 'commander'
import { Node } from '../remote/node.js'
import { secretFile, secretFrom, type Secret } from '../remote/handshake.js'
import type { BrokerOptions } from '../remote/broker.js'
import { UsageError, positiveIntArg } from './output.js'

interface NodeCliOptions {
  nats: string
  cores?: string
  name?: string
  secretFile?: string
  user?: string
  pass?: string
  token?: string
  creds?: string
  tlsCa?: string
  tlsCert?: string
  tlsKey?: string
  prefix?: string
}

function secretOf(o: NodeCliOptions): Secret {
  if (o.secretFile !== undefined) return secretFile(o.secretFile)
  const env = process.env.MULTIKERNEL_SECRET
  if (env === undefined) {
    throw new UsageError('a shared secret is needed: --secret-file FILE or MULTIKERNEL_SECRET')
  }
  return secretFrom(env, 'MULTIKERNEL_SECRET')
}

export function registerNode(program: Command): void {
  program
    .command('node')
    .description('run spawnds on this host and offer them to a runtime through a NATS broker')
    .requiredOption(
      '--nats <urls>',
      'the broker: nats://[user:pass@]host:4222 (comma-separated for several)',
    )
    .option('-c, --cores <n>', 'spawnds to run (default: 1)')
    .option('--name <name>', "this node's name (default: the host name)")
    .option('--secret-file <path>', 'the shared secret (default: $MULTIKERNEL_SECRET)')
    .option('--user <user>', 'broker user')
    .option('--pass <password>', 'broker password')
    .option('--token <token>', 'broker token')
    .option('--creds <file>', 'broker credentials file (JWT and nkey seed)')
    .option('--tls-ca <file>', 'CA to trust for a TLS broker')
    .option('--tls-cert <file>', 'client certificate for a TLS broker')
    .option('--tls-key <file>', 'client key for a TLS broker')
    .option(
      '--prefix <subject>',
      "subject prefix, the same as the runtime's (default: multikernel)",
    )
    .action(async (o: NodeCliOptions) => {
      const broker: BrokerOptions = { servers: o.nats.split(',') }
      if (o.user !== undefined) broker.user = o.user
      if (o.pass !== undefined) broker.pass = o.pass
      if (o.token !== undefined) broker.token = o.token
      if (o.creds !== undefined) broker.credsFile = o.creds
      if (o.prefix !== undefined) broker.prefix = o.prefix
      if (o.tlsCa !== undefined || o.tlsCert !== undefined || o.tlsKey !== undefined) {
        broker.tls = { caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey }
      }
      let node: Node
      try {
        node = new Node({
          broker,
          secret: secretOf(o),
          name:
            o.name ??
            hostname()
              .replace(/[^A-Za-z0-9_-]/g, '-')
              .slice(0, 64),
          cores: positiveIntArg('cores', o.cores, 1),
          log: (line) => process.stdout.write(`${line}\n`),
        })
      } catch (err) {
        if (err instanceof UsageError) throw err
        throw new UsageError(err instanceof Error ? err.message : String(err))
      }
      await node.start()
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          void node.stop().then(resolve, resolve)
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
    })
}
