/**
 * The ring layer's argument checks, shared by SpscRing, MpmcRing, Doorbell and Channel.
 * They run off the hot path (a refusal, a wait about to sleep, a constructor) or are
 * called only after a plain comparison on it has already failed.
 */
import { KernelError } from '../errors.js'
import { NumberIsInteger } from '../intrinsics.js'

/** Refuse a payload that is not a Uint8Array (a string would be copied as zeros). */
export function notBytes(payload: unknown): never {
  throw new TypeError(`a payload must be a Uint8Array, got ${shown(payload)}`)
}

/** A value for an error message, safely: a number as is, anything else by its kind (runs none of its code). */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (value === null) return 'null'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`
  if (typeof value !== 'object') return typeof value
  return ArrayBuffer.isView(value) ? 'another kind of view' : 'an object'
}

/**
 * The refusal for a frame length reserve() cannot take: FRAME_TOO_LARGE for an integer
 * beyond `maxPayload` (it can never fit), RangeError for the rest.
 */
export function refuseLength(length: number, capacity: number, maxPayload: number): never {
  if (NumberIsInteger(length) && length > maxPayload) {
    throw new KernelError(
      'FRAME_TOO_LARGE',
      `a ${length}-byte frame can never fit a ring of ${capacity} bytes (max payload ${maxPayload})`,
    )
  }
  throw new RangeError(`frame length must be a non-negative integer, got ${shown(length)}`)
}

export function checkCapacity(capacity: number, what = 'ring capacity'): void {
  if (!NumberIsInteger(capacity) || capacity <= 0) {
    throw new RangeError(`${what} must be a positive integer, got ${shown(capacity)}`)
  }
  if ((capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`${what} must be a power of two, got ${capacity}`)
  }
}

/**
 * Refuse a wait bound that is not a number of ms >= 0 (Infinity allowed). Atomics.wait
 * reads NaN (and so undefined-turned-NaN, or a string) as "for ever": a typo would
 * turn a bounded wait into a hang.
 */
export function checkWaitMs(timeoutMs: number, what = 'timeoutMs'): void {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
    throw new RangeError(`${what} must be a number of milliseconds >= 0, got ${shown(timeoutMs)}`)
  }
}

/** Refuse a spin count that is not a number >= 0 (NaN or a string would silently mean 0). */
export function checkSpin(spin: number): void {
  if (typeof spin !== 'number' || !(spin >= 0)) {
    throw new RangeError(`spin must be a number of iterations >= 0, got ${shown(spin)}`)
  }
}
