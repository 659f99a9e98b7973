/**
 * The shared HTML report writer: one self-contained file whose charts render
 * without animation. Rendered in headless Chromium (Debian's `chromium` package);
 * skipped, saying so, only when Chromium is not installed.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  REPORT_COLORS,
  renderHtmlReport,
  writeHtmlReport,
  type HtmlReport,
} from '../../dist/src/cli/report.js'
import { CHROMIUM, HAVE_CHROMIUM, runChromium } from './helpers.js'
import { countColour, decodePng } from './png.js'

const report: HtmlReport = {
  title: 'Report <test> & "quotes"',
  subtitle: 'a subtitle',
  sections: [
    {
      heading: 'Charts',
      text: 'First paragraph.\n\nSecond </script> paragraph.',
      charts: [
        {
          id: 'lines',
          type: 'line',
          title: 'Throughput',
          xLabel: 'producers',
          yLabel: 'frames/s',
          labels: [1, 2, 4, 8],
          datasets: [
            { label: '4 slots', data: [100, 300, 200, 400] },
            { label: '16 slots', data: [150, null, 250, 350] },
          ],
        },
        {
          id: 'bars',
          type: 'bar',
          title: 'p99',
          xLabel: 'producers',
          yLabel: 'µs',
          labels: ['a', 'b', 'c'],
          datasets: [{ label: 'p99', data: [10, 100, 1000] }],
          logY: true,
        },
      ],
    },
    {
      heading: 'Table',
      table: {
        columns: ['x', 'y'],
        rows: [
          [1, 'one'],
          [2, '<two>'],
        ],
      },
    },
  ],
}

describe('renderHtmlReport', () => {
  it('escapes text, inlines data and code, and fetches nothing', () => {
    const html = renderHtmlReport(report, '/* chart.js */ var Chart = 1; "</script>"')
    expect(html).toContain('<title>Report &lt;test&gt; &amp; &quot;quotes&quot;</title>')
    expect(html).toContain('<p>Second &lt;/script&gt; paragraph.</p>')
    expect(html).toContain('<td class="">&lt;two&gt;</td>')
    expect(html).toContain('<canvas id="lines"')
    expect(html).toContain('<canvas id="bars"')
    // Exactly the three script elements we wrote: nothing closed one early.
    expect(html.match(/<\/script>/g)).toHaveLength(3)
    expect(html).not.toMatch(/(src|href)=["']?https?:/)
    expect(html).toContain('animation: false')
  })

  it('refuses duplicate or unsafe chart ids', () => {
    const chart = report.sections[0].charts?.[0]
    if (chart === undefined) throw new Error('fixture')
    const dup: HtmlReport = { title: 't', sections: [{ heading: 'h', charts: [chart, chart] }] }
    expect(() => renderHtmlReport(dup, '')).toThrow(/duplicate chart id/)
    const bad: HtmlReport = {
      title: 't',
      sections: [{ heading: 'h', charts: [{ ...chart, id: 'a"b' }] }],
    }
    expect(() => renderHtmlReport(bad, '')).toThrow(/bad chart id/)
  })
})

const RENDER = HAVE_CHROMIUM
  ? `writeHtmlReport rendered in headless Chromium (${CHROMIUM})`
  : `writeHtmlReport rendering SKIPPED: Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`

describe.skipIf(!HAVE_CHROMIUM)(RENDER, () => {
  let dir = ''
  let file = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mk-report-'))
    file = join(dir, 'report.html')
    await writeHtmlReport(file, report)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('is one self-contained file with Chart.js inlined', async () => {
    const html = await readFile(file, 'utf8')
    expect(html).toContain('Chart.js v4')
    expect((await stat(file)).size).toBeGreaterThan(150_000)
  })

  it('every chart renders: canvases drawn and data-ready set on <body>', async () => {
    const dom = await runChromium(
      ['--virtual-time-budget=5000', '--dump-dom', pathToFileURL(file).href],
      join(dir, 'profile-dom'),
    )
    expect(dom).toMatch(/<body[^>]*data-ready="true"/)
    expect(dom).not.toMatch(/<body[^>]*data-error=/)
    // Chart.js sized both canvases (it writes width/height attributes when it draws).
    expect(dom).toMatch(/<canvas id="lines"[^>]*width="\d+"/)
    expect(dom).toMatch(/<canvas id="bars"[^>]*width="\d+"/)
  })

  it('a screenshot taken right after load shows the charts', async () => {
    const png = join(dir, 'shot.png')
    await runChromium(
      [
        `--screenshot=${png}`,
        '--window-size=1200,900',
        '--virtual-time-budget=2000',
        pathToFileURL(file).href,
      ],
      join(dir, 'profile-shot'),
    )
    const bytes = await readFile(png)
    const img = decodePng(bytes)
    expect(img.width).toBe(1200)
    expect(img.height).toBe(900)
    // The first series' colour: the line chart's line and the bar chart's bars.
    const first = countColour(img, REPORT_COLORS[0], 24)
    const second = countColour(img, REPORT_COLORS[1], 24)
    expect(first).toBeGreaterThan(1500)
    expect(second).toBeGreaterThan(300)
    // And not everywhere: the page is mostly background.
    expect(first).toBeLessThan((img.width * img.height) / 4)
  })
})
