/**
 * The HTML report builder and the delivery QC report, without a browser: escaping, the plots'
 * markup, decimation, the QC verdicts, missing data, and the files written beside each other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { renderReport, worstVerdict } from '../../engine/src/report/builder.ts';
import { decimateMinMax } from '../../engine/src/report/decimate.ts';
import { escapeHtml, formatNumber } from '../../engine/src/report/html.ts';
import { qcChecks, qcReportJson, renderQcReport } from '../../engine/src/report/qc-report.ts';
import { binValues, formatClock, histogram, linePlot, spectrumPlot } from '../../engine/src/report/svg.ts';
import { reportJsonText, writeReport } from '../../engine/src/report/write.ts';
import { OutputFileError } from '../../engine/src/file-checks.ts';
import { HOSTILE_NAME, syntheticQcData } from '../helpers/qc-report-data.ts';
import { assertWellFormedXml } from '../helpers/xml-check.ts';

const folders: string[] = [];
function tempFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-report-'));
  folders.push(folder);
  return folder;
}
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

const svgsOf = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

describe('escaping', () => {
  test('escapeHtml turns every markup character into an entity', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  test('a file name with a script tag and quotes renders as text, in content and in attributes', () => {
    const html = renderQcReport(syntheticQcData({ inputFile: HOSTILE_NAME, outputFile: HOSTILE_NAME }));
    // Booleans, not the document: a failure should not print 100 kB of HTML.
    expect(/<script/i.test(html)).toBe(false);
    expect(html.includes(HOSTILE_NAME)).toBe(false);
    expect(html).toContain(
      '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#39;mix&#39;.wav',
    );
    // The plots' accessible names carry the file name inside attributes: still one attribute each.
    for (const svg of svgsOf(html)) assertWellFormedXml(svg);
  });

  test('the document forbids every fetch and script through its content security policy', () => {
    const html = renderReport({ title: 't', sections: [] });
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/\b(src|href)=/);
  });
});

describe('numbers', () => {
  test('formatNumber uses a real minus, signs gains, and shows the unmeasured as a dash', () => {
    expect(formatNumber(-14.04)).toBe('\u221214.0');
    expect(formatNumber(2.25, 1, true)).toBe('+2.3');
    expect(formatNumber(-0.04)).toBe('0.0');
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(-Infinity)).toBe('—');
    expect(formatNumber(NaN)).toBe('—');
  });

  test('formatClock shows minutes and seconds, and hours once past the hour', () => {
    expect(formatClock(5)).toBe('0:05');
    expect(formatClock(150)).toBe('2:30');
    expect(formatClock(3723)).toBe('1:02:03');
  });
});

describe('plots', () => {
  const ramp = Array.from({ length: 600 }, (_, i) => -30 + i / 20);
  const plots = {
    line: linePlot({
      title: 'loudness <&> "quoted"',
      series: [
        { label: 'momentary', color: 'blue', y: ramp, dx: 0.1 },
        {
          label: `short-term 'st'`,
          color: 'text',
          y: ramp.map((v) => v - 2),
          dx: 0.1,
          shape: 'step',
          fill: true,
        },
      ],
      x: { kind: 'time', label: 'time' },
      y: { label: 'LUFS' },
      band: { center: -14, tolerance: 1, label: 'target' },
      threshold: { value: -1, label: 'ceiling' },
    }),
    histogram: histogram({
      title: 'histogram',
      bins: binValues(ramp, { from: -30, to: 0, width: 1 }),
      label: 'short-term',
      color: 'blue',
      x: { label: 'LUFS' },
      y: { label: '%' },
      markers: [{ value: -14, label: 'integrated' }],
    }),
    spectrum: spectrumPlot({
      title: 'spectrum',
      series: [
        { label: 'input', color: 'cyan', x: [20, 100, 1000, 20000], y: [-40, -20, -30, -60] },
        { label: 'output', color: 'amber', x: [20, 100, 1000, 20000], y: [-36, -18, -26, -50], fill: true },
      ],
      y: { label: 'dB' },
    }),
    empty: linePlot({
      title: 'nothing',
      series: [{ label: 'silence', color: 'blue', y: [null, -Infinity, NaN] }],
      x: {},
      y: {},
    }),
  };

  test.each(Object.entries(plots))('the %s plot is well-formed SVG with a viewBox', (_, svg) => {
    assertWellFormedXml(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="plot" viewBox="0 0 \d+ \d+"/);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  test('each series becomes a path of its own, labelled with its name', () => {
    const paths = plots.line.match(/<path class="series [^"]*" data-series="([^"]*)"/g) ?? [];
    expect(paths).toHaveLength(2);
    expect(plots.line).toContain('data-series="short-term &#39;st&#39;"');
    expect(plots.spectrum.match(/<path class="series /g)).toHaveLength(2);
    expect(plots.histogram.match(/<path class="series /g)).toHaveLength(1);
  });

  test('a plot with no finite value says so instead of drawing an empty path', () => {
    expect(plots.empty).toContain('>no data</text>');
    expect(plots.empty).not.toContain('class="series');
  });

  test('binValues counts each value once, in its bin, and skips gaps', () => {
    const bins = binValues([-20.5, -20, -19.99, -1, null, -Infinity, 3], { from: -21, to: -18, width: 1 });
    expect(bins.map((b) => b.value)).toEqual([1, 2, 0]);
  });
});

describe('decimation', () => {
  // A long noisy series with one spike up and one dip down, each a single sample.
  const n = 100_000;
  const x = Float64Array.from({ length: n }, (_, i) => i * 0.01);
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3 - 20);
  y[54_321] = 7;
  y[77_777] = -70;

  test('min/max decimation keeps the highest and the lowest sample within the point budget', () => {
    const points = decimateMinMax(x, y, 2000);
    expect(points.x.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...points.y)).toBe(7);
    expect(Math.min(...points.y)).toBe(-70);
    // ...at the moment they happened, not at a bucket's start.
    expect(points.x[points.y.indexOf(7)]).toBeCloseTo(543.21, 9);
    for (let i = 1; i < points.x.length; i++) expect(points.x[i]).toBeGreaterThan(points.x[i - 1]);
  });

  test('a silence longer than a bucket stays a gap after decimation', () => {
    const withGap = Array.from(y, (v, i) => (i >= 40_000 && i < 50_000 ? null : v));
    const points = decimateMinMax(x, withGap, 1000);
    const gaps = Array.from(points.x).filter((_, i) => Number.isNaN(points.y[i]));
    expect(gaps.length).toBeGreaterThan(0);
    for (const at of gaps) expect(at >= 400 && at < 500).toBe(true);
  });

  test('a short series passes through untouched, its gaps as NaN', () => {
    const points = decimateMinMax([0, 1, 2], [1, null, 3], 2000);
    expect(Array.from(points.y)).toEqual([1, NaN, 3]);
  });

  test('a long series is drawn with at most maxPoints vertices per series', () => {
    const svg = linePlot({
      title: 't',
      series: [{ label: 's', color: 'blue', y, x }],
      x: {},
      y: { min: -80, max: 7 },
      maxPoints: 500,
    });
    const d = /class="series[^"]*" data-series="s" d="([^"]*)"/.exec(svg)![1];
    expect(d.match(/[ML]/g)!.length).toBeLessThanOrEqual(500);
    // The spike is still drawn: some vertex sits at the plot's top edge (y = 30, the top margin).
    expect(d).toMatch(/ 30(?=[ML]|$)/);
  });
});

describe('the QC report', () => {
  test('a codec clipping after decode fails the report; the others and the platforms pass', () => {
    const checks = qcChecks(syntheticQcData());
    const failed = checks.filter((c) => c.verdict === 'fail').map((c) => c.label);
    expect(failed).toEqual(['MP3 320 kb/s']);
    expect(worstVerdict(checks.map((c) => c.verdict))).toBe('fail');
    const html = renderQcReport(syntheticQcData());
    expect(html).toContain('1 of 9 checks failed');
  });

  test('a platform that will not turn a quiet master up warns; one whose playback peaks over fails', () => {
    const data = syntheticQcData({
      loudness: { input: null, output: { ...syntheticQcData().loudness.output!, integratedLufs: -17 } },
      platforms: [
        { name: 'YouTube', targetLufs: -14, gainDb: 0, turnedUp: false, peakAfterDbtp: -4, ceilingDbtp: 0 },
        { name: 'Spotify', targetLufs: -14, gainDb: 3, turnedUp: true, peakAfterDbtp: 0.4, ceilingDbtp: -1 },
      ],
    });
    const verdicts = Object.fromEntries(
      qcChecks(data)
        .filter((c) => c.group === 'platform')
        .map((c) => [c.label, c.verdict]),
    );
    expect(verdicts).toEqual({ YouTube: 'warn', Spotify: 'fail' });
  });

  test('a ceiling met to within float noise passes; integrated loudness off target fails', () => {
    const base = syntheticQcData();
    const data = syntheticQcData({
      loudness: {
        input: null,
        output: { ...base.loudness.output!, truePeakDbtp: -0.999, integratedLufs: -11.5 },
      },
    });
    const [loudness, truePeak] = qcChecks(data);
    expect(truePeak.verdict).toBe('pass');
    expect(loudness.verdict).toBe('fail');
  });

  test('with no codecs, platforms, series or spectrum, each shows as not checked and no plot is drawn', () => {
    const base = syntheticQcData();
    const html = renderQcReport({
      ...base,
      codecs: [],
      platforms: undefined,
      series: undefined,
      spectrum: undefined,
    });
    expect(svgsOf(html)).toHaveLength(0);
    for (const line of [
      'no codec was encoded and decoded',
      'playback normalisation was not simulated',
      'no momentary or short-term loudness was recorded',
      'no short-term loudness was recorded',
      'no true-peak series was recorded',
      'no gain reduction was recorded',
      'no spectrum was measured',
    ])
      expect(html).toContain(`<li>${line}</li>`);
    expect(html).toContain('class="notes unchecked"');
  });

  test('the full data draws five plots, each well-formed', () => {
    const svgs = svgsOf(renderQcReport(syntheticQcData()));
    expect(svgs).toHaveLength(5);
    for (const svg of svgs) assertWellFormedXml(svg);
  });

  test('the JSON carries the same verdicts, with null where a series is silent', () => {
    const data = syntheticQcData();
    const json = JSON.parse(reportJsonText(qcReportJson(data)));
    expect(json.format).toBe('rig-qc-report');
    expect(json.verdict).toBe('fail');
    expect(json.checks).toEqual(qcChecks(data));
    expect(json.codecs.map((c: { verdict: string }) => c.verdict)).toEqual(['pass', 'fail', 'pass']);
    expect(json.platforms[0].playbackLufs).toBeCloseTo(-14, 9);
    // The true-peak series came as a Float32Array with -Infinity for silence.
    expect(Array.isArray(json.series.truePeakDbtp.values)).toBe(true);
    expect(json.series.truePeakDbtp.values.at(-1)).toBeNull();
    expect(json.series.shortTermLufs.values.at(-1)).toBeNull();
  });
});

describe('writing', () => {
  test('writes NAME.html and NAME.json side by side, replacing old ones, leaving no temporaries', () => {
    const folder = tempFolder();
    fs.writeFileSync(path.join(folder, 'qc.html'), 'old');
    const written = writeReport(path.join(folder, 'qc.html'), '<!doctype html><p>new</p>', {
      a: NaN,
      b: [1],
    });
    expect(written).toEqual({
      htmlPath: path.join(folder, 'qc.html'),
      jsonPath: path.join(folder, 'qc.json'),
    });
    expect(fs.readFileSync(written.htmlPath, 'utf8')).toBe('<!doctype html><p>new</p>');
    expect(JSON.parse(fs.readFileSync(written.jsonPath, 'utf8'))).toEqual({ a: null, b: [1] });
    expect(fs.readdirSync(folder).sort()).toEqual(['qc.html', 'qc.json']);
  });

  test('refuses a report named after a folder before writing anything', () => {
    const folder = tempFolder();
    fs.mkdirSync(path.join(folder, 'qc.json'));
    expect(() => writeReport(path.join(folder, 'qc'), 'x', {})).toThrow(OutputFileError);
    expect(fs.readdirSync(folder)).toEqual(['qc.json']);
  });

  test('a missing folder is named in the error', () => {
    const folder = tempFolder();
    expect(() => writeReport(path.join(folder, 'nope', 'qc'), 'x', {})).toThrow(/does not exist/);
  });
});
