/**
 * A delivery QC report in a real browser: written from generated data (three and a half minutes
 * of loudness, peaks and gain reduction, two spectra, a codec that clips after decode), opened
 * from disk in headless Chromium (the system's), every plot checked for size and series, and
 * screenshots kept in test-artifacts/ for a person to look at, on screen and as printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { qcReportJson, renderQcReport } from '../../engine/src/report/qc-report.ts';
import { writeReport, type WrittenReport } from '../../engine/src/report/write.ts';
import { REPO_ROOT, launchChromium } from '../helpers/browser.ts';
import { HOSTILE_NAME, syntheticQcData } from '../helpers/qc-report-data.ts';

const ARTIFACTS = `${REPO_ROOT}test-artifacts`;

// The figures the full data draws, with the series each must show.
const EXPECTED_SERIES: Record<string, string[]> = {
  'Loudness over time': ['momentary', 'short-term'],
  'True peak over time': ['true peak'],
  'Gain reduction over time': ['compressor', 'limiter'],
  'Short-term loudness distribution': ['short-term'],
  'Spectrum: input and output': ['input', 'output'],
};

let folder: string;
let written: WrittenReport;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];
const dialogs: string[] = [];

beforeAll(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-qc-report-'));
  // The input's name is hostile: it must show as text and run nothing.
  const data = syntheticQcData({ inputFile: HOSTILE_NAME });
  written = writeReport(path.join(folder, 'qc'), renderQcReport(data), qcReportJson(data));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(written.htmlPath).href, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

describe('the QC report in Chromium', () => {
  test('every plot is visible with a nonzero size and draws each of its series', async () => {
    const figures = await page.$$eval('section.kind-figure', (sections) =>
      sections.map((section) => {
        const svg = section.querySelector('svg.plot');
        const box = svg?.getBoundingClientRect();
        return {
          title: section.querySelector('h3')?.textContent ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          visible: svg
            ? getComputedStyle(svg).visibility === 'visible' && getComputedStyle(svg).display !== 'none'
            : false,
          series: [...(svg?.querySelectorAll('path.series') ?? [])].map((p) => ({
            name: p.getAttribute('data-series'),
            length: (p as SVGPathElement).getTotalLength(),
            // As drawn on the page, so a path squashed to a line or off the plot shows up.
            area: p.getBoundingClientRect().width * p.getBoundingClientRect().height,
          })),
        };
      }),
    );
    expect(figures.map((f) => f.title)).toEqual(Object.keys(EXPECTED_SERIES));
    for (const figure of figures) {
      expect(figure.visible, figure.title).toBe(true);
      // A full-width plot in a 1320 px window is over 1000 px wide; a half one over 500.
      expect(figure.width, figure.title).toBeGreaterThan(500);
      expect(figure.height, figure.title).toBeGreaterThan(100);
      expect(figure.series.map((s) => s.name)).toEqual(EXPECTED_SERIES[figure.title]);
      for (const s of figure.series) {
        expect(s.length, `${figure.title}: ${s.name}`).toBeGreaterThan(50);
        expect(s.area, `${figure.title}: ${s.name}`).toBeGreaterThan(1000);
      }
    }
  });

  test("each plot's markup as written parses as SVG with the browser's XML parser", async () => {
    const html = fs.readFileSync(written.htmlPath, 'utf8');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(5);
    const problems = await page.evaluate((sources) => {
      return sources.map((source) => {
        const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
        const error = doc.querySelector('parsererror');
        return error
          ? error.textContent
          : doc.documentElement.localName === 'svg'
            ? null
            : 'root is not <svg>';
      });
    }, svgs);
    expect(problems).toEqual(svgs.map(() => null));
  });

  test('the hostile file name shows as text and runs nothing', async () => {
    const shown = await page.$$eval('.meta dd', (cells) => cells.map((c) => c.textContent));
    expect(shown).toContain(HOSTILE_NAME);
    expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  test('the failing codec and the overall verdict read as failed, the rest as passed', async () => {
    expect(await page.textContent('.stamp b')).toBe('fail');
    const badges = await page.$$eval('.badge', (list) =>
      list.map((b) => [b.querySelector('.badge-label')?.textContent, b.className.replace('badge ', '')]),
    );
    expect(badges.filter(([, v]) => v === 'v-fail').map(([label]) => label)).toEqual(['MP3 320 kb/s']);
    expect(badges.filter(([, v]) => v === 'v-pass')).toHaveLength(8);
  });

  test('the page made no request beyond its own file and logged no error', () => {
    expect(requests.filter((url) => url !== pathToFileURL(written.htmlPath).href)).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  test('screenshots of the report on screen and as printed', async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/qc-report.png`, fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 800, height: 1000 });
    await page.screenshot({ path: `${ARTIFACTS}/qc-report-print.png`, fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    expect(fs.statSync(`${ARTIFACTS}/qc-report.png`).size).toBeGreaterThan(10_000);
    expect(consoleErrors).toEqual([]);
  });
});
