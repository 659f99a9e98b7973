// Running an example under examples/ as a user would (node examples/<name>), for the
// suites that keep the README's examples true. Bounded: a hang fails, it never waits on.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export function runExample(name: string, args: string[] = []): Promise<string> {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${name} failed: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}
