/**
 * The bare NATS peer's far end, a process of its own (as a node is): subscribes to
 * `subject` and answers every request with its 8 bytes. argv: <url> <subject>.
 * Prints "ready" once its subscription is on the broker; exits when its stdin closes
 * (the bench process ended, even by a crash) or on SIGTERM.
 */
import { connect } from '@nats-io/transport-node'

async function main(): Promise<void> {
  const [url, subject] = process.argv.slice(2)
  if (url === undefined || subject === undefined)
    throw new Error('usage: responder <url> <subject>')
  const nc = await connect({ servers: url, timeout: 5000 })
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null) msg.respond(msg.data)
    },
  })
  await nc.flush()
  process.stdout.write('ready\n')
  const quit = (): void => {
    void nc.close().finally(() => process.exit(0))
  }
  process.stdin.on('end', quit)
  process.stdin.on('error', quit)
  process.stdin.resume()
  process.once('SIGTERM', quit)
}

main().catch((e: unknown) => {
  process.stderr.write(`responder: ${String(e)}\n`)
  process.exit(1)
})
