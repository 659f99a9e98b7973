/**
 * The Node flags each spawnd worker starts with. By default a worker inherits its
 * parent's execArgv, which breaks when the parent runs a script that is not a file:
 * `node --input-type=module -e '...'` hands every worker `--input-type`, and a
 * worker (whose entry is a file) refuses it. So when the parent's flags include
 * one that only describes how the main script is given or run, the workers get the
 * parent's flags without those:
 *
 *   dropped: the main script's source and mode    -e/--eval, -p/--print (and their
 *            value), --input-type, -c/--check, -i/--interactive, --test*, --watch*, -
 *            debugging of the main thread         --inspect*, --debug-port (a port is
 *                                                 the parent's; workers debug through it)
 *            process-wide flags a worker refuses   V8 and per-process flags such as
 *            (already in force for the process)   --max-old-space-size, --stack-size,
 *                                                 --expose-gc, --title, --prof ...
 *   kept:    everything else, for instance --experimental-*, --no-warnings,
 *            --enable-source-maps, --conditions, --import, --require, --loader.
 *
 * When none is present the workers inherit as Node does (undefined here), so V8
 * flags stay as they are. boot({ execArgv }) replaces all of this with the user's
 * own list, passed as given (Node refuses a flag a worker cannot take, and boot
 * fails with that refusal as the cause).
 */

/** Flags that describe the main script: their presence makes the filtered list apply. */
const ENTRY = [
  '-e',
  '--eval',
  '-p',
  '--print',
  '-pe',
  '--input-type',
  '-c',
  '--check',
  '-i',
  '--interactive',
  '--test',
  '--watch',
  '--watch-path',
  '--watch-preserve-output',
  '-',
]
const ENTRY_PREFIX = ['--test-']
/** Of the dropped flags, the ones whose value is the next argument when not given with '='. */
const TAKES_VALUE = [
  '-e',
  '--eval',
  '-p',
  '--print',
  '-pe',
  '--input-type',
  '--watch-path',
  '--debug-port',
  '--inspect-port',
  '--title',
  '--env-file',
  '--openssl-config',
  '--icu-data-dir',
  '--secure-heap',
  '--secure-heap-min',
  '--security-revert',
]
/** Debugging and process-wide flags a worker cannot take. */
const DROP = [
  '--debug-port',
  '--inspect-port',
  '--max-old-space-size',
  '--max-semi-space-size',
  '--stack-size',
  '--expose-gc',
  '--expose_gc',
  '--title',
  '--prof',
  '--abort-on-uncaught-exception',
  '--jitless',
  '--v8-pool-size',
  '--zero-fill-buffers',
  '--openssl-config',
  '--use-openssl-ca',
  '--use-bundled-ca',
  '--icu-data-dir',
  '--secure-heap',
  '--secure-heap-min',
  '--security-revert',
  '--experimental-strip-types',
  '--env-file',
]
const DROP_PREFIX = ['--inspect', '--heap-prof', '--cpu-prof', '--perf-', '--trace-event']

function flagName(arg: string): string {
  const eq = arg.indexOf('=')
  return eq < 0 ? arg : arg.slice(0, eq)
}

function isEntry(name: string): boolean {
  return ENTRY.includes(name) || ENTRY_PREFIX.some((p) => name.startsWith(p))
}

/**
 * The execArgv for spawnd workers, from the parent's: undefined (inherit) when it
 * holds no flag of the main script; else the filtered list described above.
 */
export function workerExecArgv(parent: readonly string[] = process.execArgv): string[] | undefined {
  if (!parent.some((a) => isEntry(flagName(a)))) return undefined
  const out: string[] = []
  for (let i = 0; i < parent.length; i++) {
    const a = parent[i]
    const name = flagName(a)
    const drop = isEntry(name) || DROP.includes(name) || DROP_PREFIX.some((p) => name.startsWith(p))
    if (!drop) {
      out.push(a)
      continue
    }
    // `-e <code>`: the value goes with its flag.
    if (name === a && TAKES_VALUE.includes(name)) i++
  }
  return out
}

/** boot's execArgv option: the user's own list of strings, or the filtered parent's. */
export function execArgvOption(v: unknown): string[] | undefined {
  if (v === undefined) return workerExecArgv()
  if (!Array.isArray(v) || !v.every((a) => typeof a === 'string'))
    throw new TypeError('execArgv must be an array of strings')
  return v.slice() as string[]
}
