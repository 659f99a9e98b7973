// 1,000,000 messages of random sizes (bytes of 0-1499 and structured values mixed)
// from a domain on core 0 to a domain on core 1 over one session: every one arrives
// exactly once, in order, intact (issue 12, "Tests"). The sink checks each as it
// comes; the source's exit code is the verdict.
import { afterEach, expect, it } from 'vitest'
import { boot, type Runtime } from 'multikernel'
import { within } from '../shared/bounded.js'
import { fixture } from './domains.js'

let rt: Runtime

afterEach(async () => {
  await within(rt.shutdown(), 'shutdown')
})

it('1,000,000 messages of random sizes across two cores: exactly once and in order', async () => {
  rt = await boot({ cores: 2 })
  await rt.spawn(fixture('firehose.mjs'), { core: 1, argv: ['sink'] })
  // The sink serves once its serve call is answered: the source retries until routed.
  let src
  for (let i = 0; ; i++) {
    src = await rt.spawn(fixture('firehose.mjs'), { core: 0, argv: ['source', '1000000', '7'] })
    const r = await within(rt.wait(src), 'source ends', 120_000)
    if (r.status !== 'running' && r.exitCode === 0) break
    if (i > 100 || !JSON.stringify(r).includes('SERVICE_DENIED')) {
      expect(r).toMatchObject({ exitCode: 0 })
    }
  }
}, 180_000)
