#!/usr/bin/env node
/**
 * The `multikernel` command: demo (what `npm start` runs), bench, stress.
 * Built on commander (argument parsing and --help for every subcommand).
 */
import { Command, CommanderError } from 'commander'
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './output.js'
import { registerDemo } from './demo.js'
import { registerStress } from './stress.js'
import { registerBench } from './bench.js'

const program = new Command()
program
  .name('multikernel')
  .description(
    'A multikernel process runtime for Node.js: demo, benchmarks and contention stress tests',
  )
  .showHelpAfterError()
  .exitOverride()

registerDemo(program)
registerStress(program)
registerBench(program)

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
