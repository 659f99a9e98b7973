import { boot } from 'multikernel'
const rt = await boot({ cores: 1, remote: { servers: 'nats://127.0.0.1:14222', nodes: ['n1'], heartbeatMs: 200 } })
for (let r=0;r<3;r++){
let t = performance.now()
for (let i=0;i<2000;i++) await rt.ping(1)
console.log('ping us', (performance.now()-t)/2000*1000)}
await rt.shutdown()
