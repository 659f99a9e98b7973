/**
 * `npm run bench:readme`: rewrite the README's benchmark table from the last full
 * run's JSON (bench/results/<suite>.json of every suite), between the marker comments
 *
 *     <!-- bench-table:begin -->  ...  <!-- bench-table:end -->
 *
 * so that the table is never written by hand. Quick runs (<suite>.quick.json) are
 * refused: their figures are not comparable.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ReportFile } from './lib/report.js'
import { benchTable } from './lib/table.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BEGIN = '<!-- bench-table:begin -->'
const END = '<!-- bench-table:end -->'

function load(suite: string): ReportFile | null {
  const path = join(ROOT, 'bench', 'results', `${suite}.json`)
  if (!existsSync(path)) return null
  const f = JSON.parse(readFileSync(path, 'utf8')) as ReportFile
  if (f.quick) throw new Error(`${path} is a quick run: its figures are not comparable`)
  return f
}

function main(): void {
  const files: Record<string, ReportFile | null> = {}
  for (const s of ['ring', 'pm', 'ipc', 'update', 'pool', 'server', 'comlink', 'remote'])
    files[s] = load(s)
  if (Object.values(files).every((f) => f === null)) {
    throw new Error('no full run in bench/results/: run `npm run bench -- all` first')
  }
  const path = join(ROOT, 'README.md')
  const readme = readFileSync(path, 'utf8')
  const a = readme.indexOf(BEGIN)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${BEGIN} ... ${END}`)
  const next = `${readme.slice(0, a + BEGIN.length)}\n\n${benchTable(files)}\n\n${readme.slice(b)}`
  writeFileSync(path, next)
  process.stderr.write(`README.md: benchmark table rewritten from bench/results/\n`)
}

main()
