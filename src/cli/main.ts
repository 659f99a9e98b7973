#!/usr/bin/env node
/**
 * The `multikernel` command: demo (what `npm start` runs), stress, and node (remote cores). Built on
 * commander (argument parsing and --help for every subcommand). The benchmarks are
 * a development tool run from a clone (`npm run bench`, bench/main.ts), not part of
 * the installed command: they need the peers they compare against.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './output.js'
import { registerDemo } from './demo.js'
import { registerStress } from './stress.js'
import { registerNode } from './node.js'

/** The package's version, from its package.json (dist/src/cli/main.js -> ../../../). */
function packageVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version?: unknown }
  return typeof pkg.version === 'string' ? pkg.version : 'unknown'
}

const program = new Command()
program
  .name('multikernel')
  .description(
    'A multikernel process runtime for Node.js: a demo, contention stress tests, and remote nodes',
  )
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError()
  .exitOverride()

registerDemo(program)
registerStress(program)
registerNode(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; parse errors were already printed by commander.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE
  } else if (err instanceof UsageError) {
    process.stderr.write(`multikernel: ${err.message}\n`)
    process.exitCode = EXIT_USAGE
  } else {
    process.stderr.write(
      `multikernel: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exitCode = EXIT_FAILED
  }
}
