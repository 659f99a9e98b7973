/**
 * Run the built CLI (`node dist/src/cli/main.js ...`) as a child process, and find
 * headless Chromium for the rendering tests.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
export const CHROMIUM = '/usr/bin/chromium'
export const HAVE_CHROMIUM = existsSync(CHROMIUM)

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the CLI with a hard timeout; resolves with its exit code and output, never rejects on exit != 0. */
export function runCli(args: string[], timeoutMs = 45_000): Promise<CliResult> {
  return runScript(CLI, args, timeoutMs)
}

/** Run a built script of the package (the CLI, the bench harness) the same way. */
export function runScript(script: string, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') {
          reject(new Error(`${args.join(' ')}: ${err.message}\n${stderr}`))
          return
        }
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr })
      },
    )
  })
}

/** Run headless Chromium on a file with extra flags (--screenshot=..., --dump-dom). */
export function runChromium(
  args: string[],
  profileDir: string,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profileDir}`,
        ...args,
      ],
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`chromium failed: ${err.message}\n${stderr}`))
        else resolve(stdout)
      },
    )
  })
}
