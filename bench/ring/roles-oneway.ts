/**
 * Worker side of the one-way throughput runs: a producer sends `frames` frames of
 * `payload` bytes per round, publishing every `batch` frames; a consumer drains them,
 * checks every sequence number and times the round from the common start to the
 * last frame. Waiting sides spin a bounded while, then sleep on a Doorbell.
 *
 * One file per peer, each side's hot loop a function of its own: oneway-ring.ts
 * (SpscRing), oneway-bare.ts (the bare hand-off), oneway-ringbuf.ts (ringbuf.js),
 * oneway-pm.ts and roles-poll.ts (postMessage); what they share is oneway-round.ts.
 */
import type { RoundFn } from '../lib/rounds.js'
import { bareConsumer, bareProducer } from './oneway-bare.js'
import { pmConsumer, pmProducer } from './oneway-pm.js'
import { ringConsumer, ringManyProducer, ringProducer } from './oneway-ring.js'
import { ringbufConsumer, ringbufProducer } from './oneway-ringbuf.js'
import { pmPollConsumer } from './roles-poll.js'
import type { OneWayTask } from './tasks.js'

export function onewayRole(t: OneWayTask): RoundFn {
  const producer = t.role === 'producer'
  switch (t.impl) {
    case 'ring':
      return producer ? ringProducer(t) : ringConsumer(t)
    case 'ringMany':
      return producer ? ringManyProducer(t) : ringConsumer(t)
    case 'ringbuf':
      return producer ? ringbufProducer(t) : ringbufConsumer(t)
    case 'postMessage':
      return producer ? pmProducer(t) : pmConsumer(t)
    case 'postMessagePoll':
      return producer ? pmProducer(t) : pmPollConsumer(t)
    case 'bare':
      return producer ? bareProducer(t) : bareConsumer(t)
  }
}
