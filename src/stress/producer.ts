/**
 * Stress producer: a worker thread that claims MPMC slots and writes frames
 * (id, sequence number, send time, checksum, fill) until its quota is sent or the
 * stop word is set. Runs one synchronous loop: it hosts nothing else.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { Doorbell, MpmcRing } from '../ring/index.js'
import {
  DONE,
  NOT_EMPTY_OFFSET,
  NOT_FULL_OFFSET,
  producerCounter,
  SNAPPED,
  snapshotWord,
  START,
  STOP,
} from './control.js'
import { corruptOffset, writeFrame } from './frame.js'
import { sharedClock, type ProducerReport, type WorkerSetup } from './protocol.js'
import { Waiter } from './wait.js'

const setup = workerData as WorkerSetup
/** Sequence numbers travel as u32 and index bitmaps: stop well before they wrap. */
const MAX_SEQ = 2 ** 31 - 1
const port = parentPort
if (port === null) throw new Error('the stress producer runs as a worker thread')

const ring = new MpmcRing(setup.ring)
const ctrl = new Int32Array(setup.control)
const notEmpty = new Doorbell(setup.control, NOT_EMPTY_OFFSET)
const waiter = new Waiter(
  setup.wait,
  new Doorbell(setup.control, NOT_FULL_OFFSET),
  setup.spin,
  ctrl,
)
const now = sharedClock(setup.origin)
const me = setup.index
const counter = producerCounter(me)
const size = setup.frameSize
const quota = setup.quota
const fault = me === 0 ? setup.fault : null
const bytes = ring.bytes
const view = ring.view

let fullStalls = 0
let written = 0
let faultApplied = false
let claimed = -1
const claimReady = (): boolean => {
  claimed = ring.claim(size)
  return claimed >= 0
}

/** Claim a slot, waiting by the strategy when the ring is full. */
function claim(): number {
  const at = ring.claim(size)
  if (at >= 0) return at
  fullStalls++
  waiter.wait(claimReady)
  return claimed
}

function send(seq: number, corrupt: boolean): void {
  const at = claim()
  writeFrame(bytes, view, at, size, me, seq, now())
  if (corrupt) bytes[at + corruptOffset(size)] ^= 0xff
  ring.commit()
  written++
  if (waiter.rings) notEmpty.ring()
}

port.postMessage({ role: 'ready' })
while (Atomics.load(ctrl, START) === 0) Atomics.wait(ctrl, START, 0, 100)

const startMs = now()
let seq = 0
for (;;) {
  if (quota >= 0) {
    if (seq >= quota) break
  } else if (seq >= MAX_SEQ || ((seq & 15) === 0 && Atomics.load(ctrl, STOP) !== 0)) {
    break
  }
  if (fault !== null && seq === setup.faultSeq) {
    faultApplied = true
    if (fault === 'drop') {
      seq++ // issued, never sent: the verifier must miss it
    } else {
      send(seq, fault === 'corrupt')
      if (fault === 'duplicate') send(seq, false)
      seq++
    }
  } else {
    send(seq, false)
    seq++
  }
  // A plain store: a progress and fairness counter on this thread's own line, read racily.
  ctrl[counter] = seq
}
Atomics.store(ctrl, counter, seq)
const endMs = now()

// The first producer to finish snapshots everyone's progress: the fairness window is
// the time all producers competed.
if (Atomics.compareExchange(ctrl, SNAPPED, 0, 1) === 0) {
  for (let p = 0; p < setup.producers; p++) {
    Atomics.store(ctrl, snapshotWord(setup, p), Atomics.load(ctrl, producerCounter(p)))
  }
}
Atomics.add(ctrl, DONE, 1)
// Wake every sleeping consumer, unconditionally: the last one to finish lets them stop.
notEmpty.wake()

const report: ProducerReport = {
  role: 'producer',
  index: me,
  sent: seq,
  written,
  casRetries: ring.casRetries,
  fullSpins: ring.fullSpins,
  fullStalls,
  sleeps: waiter.bell.sleeps,
  yields: waiter.yields,
  notifies: notEmpty.notifies,
  faultApplied,
  startMs,
  endMs,
}
port.postMessage(report)
