/**
 * The HTML report writer shared by `multikernel stress` and the benchmarks (bench/main.ts):
 * one self-contained file (Chart.js and the data inlined, no network), charts drawn
 * without animation so that a screenshot taken right after load shows them, and
 * `data-ready="true"` set on <body> once every chart has rendered (tests wait on it).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface ReportChart {
  /** Unique within the report; letters, digits, '-' and '_'. */
  id: string
  type: 'line' | 'bar'
  title: string
  xLabel: string
  yLabel: string
  labels: (string | number)[]
  /** One series per dataset; null leaves a gap. */
  datasets: Array<{ label: string; data: (number | null)[] }>
  /** A logarithmic y axis. */
  logY?: boolean
}

export interface ReportTable {
  columns: string[]
  rows: (string | number)[][]
}

export interface ReportSection {
  heading: string
  /** Plain text; blank lines separate paragraphs. */
  text?: string
  charts?: ReportChart[]
  table?: ReportTable
}

export interface HtmlReport {
  title: string
  subtitle?: string
  sections: ReportSection[]
}

/** Series colours (Tableau 10): distinct, and known to tests that look for them. */
export const REPORT_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]

let chartJs: Promise<string> | null = null

/** The Chart.js UMD bundle, read once from the installed package at run time. */
function chartJsSource(): Promise<string> {
  if (chartJs === null) {
    // 'chart.js' resolves to dist/chart.cjs; the UMD bundle sits beside it (the
    // package's exports map does not expose it by name).
    const main = createRequire(import.meta.url).resolve('chart.js')
    chartJs = readFile(join(dirname(main), 'chart.umd.min.js'), 'utf8')
  }
  return chartJs
}

export async function writeHtmlReport(path: string, report: HtmlReport): Promise<void> {
  const html = renderHtmlReport(report, await chartJsSource())
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, html)
}

/** The report as one HTML string, given the Chart.js source to inline. */
export function renderHtmlReport(report: HtmlReport, chartJsCode: string): string {
  const ids = new Set<string>()
  for (const s of report.sections) {
    for (const c of s.charts ?? []) {
      if (!/^[A-Za-z][\w-]*$/.test(c.id)) throw new RangeError(`bad chart id '${c.id}'`)
      if (ids.has(c.id)) throw new RangeError(`duplicate chart id '${c.id}'`)
      ids.add(c.id)
    }
  }
  const charts = report.sections.flatMap((s) => s.charts ?? [])
  const body = report.sections.map(renderSection).join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(report.title)}</h1>${
    report.subtitle === undefined ? '' : `<p class="subtitle">${esc(report.subtitle)}</p>`
  }</header>
<main>
${body}
</main>
<footer>multikernel report, generated ${esc(new Date().toISOString())}</footer>
<script type="application/json" id="report-charts">${scriptSafe(JSON.stringify(charts))}</script>
<script>${scriptSafe(chartJsCode)}</script>
<script>${scriptSafe(BOOT)}</script>
</body>
</html>
`
}

function renderSection(s: ReportSection): string {
  const parts = [`<section>`, `<h2>${esc(s.heading)}</h2>`]
  if (s.text !== undefined) {
    for (const para of s.text.split(/\n\s*\n/)) {
      if (para.trim() !== '') parts.push(`<p>${esc(para.trim())}</p>`)
    }
  }
  if (s.charts !== undefined && s.charts.length > 0) {
    parts.push('<div class="charts">')
    for (const c of s.charts) {
      parts.push(
        `<figure class="chart"><canvas id="${c.id}" role="img" aria-label="${esc(c.title)}"></canvas></figure>`,
      )
    }
    parts.push('</div>')
  }
  if (s.table !== undefined) parts.push(renderTable(s.table))
  parts.push('</section>')
  return parts.join('\n')
}

function renderTable(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${esc(c)}</th>`).join('')
  const rows = t.rows
    .map(
      (r) =>
        `<tr>${r.map((v) => `<td class="${typeof v === 'number' ? 'num' : ''}">${esc(String(v))}</td>`).join('')}</tr>`,
    )
    .join('\n')
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`
}

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** Text inside <script> must never close it early. */
function scriptSafe(s: string): string {
  return s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
  background: #fff; margin: 0 auto; max-width: 1160px; padding: 16px 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 20px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.subtitle { color: #555; margin: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
.chart { position: relative; height: 340px; margin: 0; border: 1px solid #e4e4e4;
  border-radius: 4px; padding: 8px; }
table { border-collapse: collapse; margin-top: 12px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
footer { color: #888; font-size: 12px; margin-top: 24px; }
`

/** Runs in the page: draw every chart, then mark the body ready. */
const BOOT = `
(function () {
  var colors = ${JSON.stringify(REPORT_COLORS)};
  var specs = JSON.parse(document.getElementById('report-charts').textContent);
  var rendered = {};
  var count = 0;
  function ready() { document.body.setAttribute('data-ready', 'true'); }
  window.addEventListener('error', function (e) {
    document.body.setAttribute('data-error', String(e.message));
  });
  if (specs.length === 0) { ready(); return; }
  var marker = {
    id: 'reportReady',
    afterRender: function (chart) {
      if (rendered[chart.canvas.id]) return;
      rendered[chart.canvas.id] = true;
      if (++count === specs.length) ready();
    }
  };
  specs.forEach(function (s) {
    var datasets = s.datasets.map(function (d, i) {
      var c = colors[i % colors.length];
      return { label: d.label, data: d.data, borderColor: c,
        backgroundColor: s.type === 'bar' ? c : c + '33', borderWidth: 2, pointRadius: 3,
        spanGaps: true, tension: 0 };
    });
    new Chart(document.getElementById(s.id), {
      type: s.type,
      data: { labels: s.labels, datasets: datasets },
      plugins: [marker],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: s.title, font: { size: 15 } },
          legend: { position: 'bottom' }
        },
        scales: {
          x: { title: { display: true, text: s.xLabel } },
          y: { type: s.logY ? 'logarithmic' : 'linear', beginAtZero: !s.logY,
               title: { display: true, text: s.yLabel } }
        }
      }
    });
  });
})();
`
