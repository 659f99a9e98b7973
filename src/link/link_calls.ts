/**
 * The link's own requests, for any CoreLinks (the rings to local spawnds, remote
 * cores over NATS, or both): a ping, pipelined pings, and a core's ps table.
 */
import { ERR_OK } from '../protocol/errcodes.js'
import type { PsEntry } from '../protocol/messages.js'
import { Op } from '../protocol/opcodes.js'
import type { CoreLinks, ReplyHandler } from './link.js'

/** A ping answered with its value. */
export function ping(links: CoreLinks, core: number, value = 0): Promise<number> {
  links.check(core)
  return new Promise((resolve, reject) => {
    links.request(core, Op.PING, 0, value, null, (err, v, text) => {
      if (err === ERR_OK) resolve(v)
      else reject(links.replyError(err, text, 'ping', core))
    })
  })
}

/**
 * `count` pings pipelined on one core with at most `window` in flight, answered
 * together (the throughput path). Each reply sends the next request from inside
 * the drain, so a whole batch of replies refills the ring with one publish.
 */
export function pingMany(
  links: CoreLinks,
  core: number,
  count: number,
  window: number,
): Promise<void> {
  links.check(core)
  return new Promise((resolve, reject) => {
    let unsent = count
    let unanswered = count
    let failed = false
    if (count === 0) return resolve()
    const h: ReplyHandler = (err, _v, text) => {
      if (err !== ERR_OK) {
        if (!failed) reject(links.replyError(err, text, 'ping', core))
        failed = true
      }
      if (unsent > 0 && !failed) {
        unsent--
        links.request(core, Op.PING, 0, unsent, null, h)
      }
      if (--unanswered === 0 && !failed) resolve()
      if (failed && unsent > 0) {
        unanswered -= unsent
        unsent = 0
      }
    }
    const first = Math.min(window, count)
    unsent = count - first
    for (let i = 0; i < first; i++) links.request(core, Op.PING, 0, i, null, h)
  })
}

/** The spawnd's dispatcher table (its ps). */
export function ps(links: CoreLinks, core: number): Promise<PsEntry[]> {
  links.check(core)
  return new Promise((resolve, reject) => {
    links.request(core, Op.PS, 0, 0, null, (err, _v, text) => {
      if (err === ERR_OK) resolve(JSON.parse(text ?? '[]') as PsEntry[])
      else reject(links.replyError(err, text, 'ps', core))
    })
  })
}
