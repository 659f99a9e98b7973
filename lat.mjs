import { boot } from 'multikernel'
import { connect } from '@nats-io/transport-node'
const nc = await connect({ servers: 'nats://127.0.0.1:14222' })
const rt = await boot({ cores: 1, remote: { servers: 'nats://127.0.0.1:14222', nodes: ['n1'], secret: '0123456789abcdef0123' } })
const N = 2000
for (let r = 0; r < 5; r++) {
  let t = performance.now()
  for (let i = 0; i < N; i++) await nc.request('echo', new Uint8Array(8))
  const bare = (performance.now() - t) / N * 1000
  t = performance.now()
  for (let i = 0; i < N; i++) await rt.ping(1)
  const ours = (performance.now() - t) / N * 1000
  t = performance.now()
  let inflight = 0, sent = 0, done = 0
  await new Promise((res) => {
    const go = () => { while (inflight < 256 && sent < 20000) { sent++; inflight++; nc.request('echo', new Uint8Array(8)).then(() => { inflight--; done++; if (done === 20000) res(); else go() }) } }
    go()
  })
  const barePipe = 20000 / (performance.now() - t) * 1000
  t = performance.now()
  await rt.pingMany(1, 20000, 256)
  const oursPipe = 20000 / (performance.now() - t) * 1000
  console.log(`bare ${bare.toFixed(0)}us ours ${ours.toFixed(0)}us ratio ${(ours/bare).toFixed(2)} | pipelined bare ${barePipe.toFixed(0)}/s ours ${oursPipe.toFixed(0)}/s x${(oursPipe/barePipe).toFixed(1)}`)
}
await rt.shutdown(); await nc.close()
