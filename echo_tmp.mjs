import { connect } from '@nats-io/transport-node'
const nc = await connect({ servers: 'nats://127.0.0.1:14222' })
nc.subscribe('echo', { callback: (err, m) => m.respond(m.data) })
