/**
 * Progress during a stress run or sweep: a cli-progress bar on stderr when stderr is
 * a terminal (and not --json); otherwise one plain line per finished sweep point,
 * so logs stay readable and stdout stays the result.
 */
import { Presets, SingleBar } from 'cli-progress'
import type { StressConfig } from '../../stress/index.js'
import { fmtRate } from './print.js'

export class StressProgress {
  private readonly bar: SingleBar | null
  /** Work units per run: frames in frame-count mode, ms in duration mode. */
  private readonly perRun: number
  private done = 0

  constructor(
    private readonly runs: StressConfig[],
    private readonly mode: 'bar' | 'lines' | 'none',
  ) {
    const first = runs[0]
    this.perRun = first.frames ?? first.durationMs ?? 1
    this.bar =
      mode === 'bar'
        ? new SingleBar(
            {
              format: ' {bar} {percentage}% | {point} | {rate} | {duration_formatted}',
              stream: process.stderr,
              hideCursor: true,
              clearOnComplete: true,
              fps: 10,
            },
            Presets.shades_classic,
          )
        : null
    this.bar?.start(this.perRun * runs.length, 0, { point: label(first), rate: '' })
  }

  /** The current run advanced: `received` frames after `elapsedMs`. */
  update(received: number, elapsedMs: number): void {
    if (this.bar === null) return
    const c = this.runs[this.done]
    const within = c.frames !== null ? received : Math.min(elapsedMs, this.perRun)
    this.bar.update(this.done * this.perRun + Math.min(within, this.perRun), {
      point: label(c),
      rate: elapsedMs > 0 ? `${fmtRate((received * 1000) / elapsedMs)} frames/s` : '',
    })
  }

  /** A run finished; `line` describes it (printed as is when there is no bar). */
  finished(line: string): void {
    this.done++
    if (this.mode === 'lines') process.stderr.write(`[${this.done}/${this.runs.length}] ${line}\n`)
    this.bar?.update(this.done * this.perRun, {
      point: this.done < this.runs.length ? label(this.runs[this.done]) : 'done',
    })
  }

  stop(): void {
    this.bar?.stop()
  }
}

function label(c: StressConfig): string {
  return `${c.producers}P x ${c.capacity} slots`
}
