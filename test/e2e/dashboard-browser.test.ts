/**
 * The dashboard in a real browser against a real rig: `rig start --demo` plays the built-in
 * program through the chain, headless Chromium opens the page it serves, and a second WebSocket
 * client watches the rig from outside the page.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getSpec, meterValue, positionToValue, valueToPosition } from '../../engine/src/schema.ts';
import { REPO_ROOT, RigSocket, ensureDashboardBuilt, freePort, launchChromium, startRig, type RunningRig } from '../helpers/browser.ts';

const ARTIFACTS = `${REPO_ROOT}test-artifacts`;
// The page's knob travel (dashboard/app/src/lib/knob-travel.ts): a full turn per 240 px of drag.
const DRAG_TRAVEL_PX = 240;

let port: number;
let dataDir: string;
let rig: RunningRig;
let browser: Browser;
let page: Page;
let observer: RigSocket;
const pageErrors: string[] = [];

/** The same port every time: the page reconnects to where it came from. */
function rigArgs(): string[] {
  return ['--demo', '--output', 'none', '--port', String(port)];
}

async function readout(testid: string): Promise<string> {
  return (await page.getByTestId(testid).textContent())?.trim() ?? '';
}

/** The page's figures use a real minus sign and a dash for "not yet". */
function figure(text: string): number {
  return text === '—' ? NaN : Number(text.replace('−', '-'));
}

function slider(id: string) {
  return page.getByTestId(`knob-${id}`).getByRole('slider');
}

async function attribute(id: string, name: string): Promise<string | null> {
  return slider(id).getAttribute(name);
}

async function canvasPixels(testid: string): Promise<string> {
  return page.getByTestId(testid).evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL());
}

beforeAll(async () => {
  ensureDashboardBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'rig-dashboard-'));
  rig = await startRig(rigArgs(), dataDir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(rig.url);
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="loudness-momentary"]')?.textContent ?? ''), null, { timeout: 15_000 });
  observer = await RigSocket.open(rig.url);
});

afterAll(async () => {
  await observer?.close();
  await browser?.close();
  await rig?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard in Chromium against rig start --demo', () => {
  test('meters move and show what the rig measures', async () => {
    const momentary = new Set<string>();
    const outputPictures = new Set<string>();
    const inputPictures = new Set<string>();
    for (let i = 0; i < 12 && (momentary.size < 3 || outputPictures.size < 3 || inputPictures.size < 3); i++) {
      momentary.add(await readout('loudness-momentary'));
      outputPictures.add(await canvasPixels('meter-canvas-output'));
      inputPictures.add(await canvasPixels('meter-canvas-input'));
      await page.waitForTimeout(400);
    }
    // The demo program has a beat: momentary loudness and the bars cannot hold still for 5 s.
    expect(momentary.size).toBeGreaterThanOrEqual(3);
    expect(outputPictures.size).toBeGreaterThanOrEqual(3);
    expect(inputPictures.size).toBeGreaterThanOrEqual(3);

    // The integrated figure is the rig's own, decoded from its binary frames: integrated loudness
    // moves slowly, so within the page's 100 ms readout interval it agrees to a few tenths.
    await expect.poll(async () => figure(await readout('loudness-integrated')), { timeout: 15_000 }).toBeLessThan(0);
    const frame = await observer.waitFor(() => observer.latestFrame ?? undefined, 'a meter frame');
    const onPage = figure(await readout('loudness-integrated'));
    expect(Math.abs(onPage - meterValue(frame, 'output.integratedLufs'))).toBeLessThan(0.5);
    // Short-term loudness needs its first 3 s window; the picture is worth taking once it has one.
    await expect.poll(async () => figure(await readout('loudness-short-term')), { timeout: 15_000 }).toBeGreaterThan(-70);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-overview.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  test('dragging a knob sets the parameter along its taper', async () => {
    const id = 'comp.threshold';
    const spec = getSpec(id);
    const before = observer.hello.values[id];
    const box = (await slider(id).boundingBox())!;
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    const dragPx = 60;
    const update = observer.nextUpdate(id, (u) => Math.abs(u.value - positionToValue(spec, valueToPosition(spec, before) + dragPx / DRAG_TRAVEL_PX)) < 1e-6);
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x, y - dragPx, { steps: 12 });
    await page.mouse.up();
    const applied = await update;
    expect(applied.origin).toMatch(/^dashboard:/);
    expect(applied.value).toBeGreaterThan(before);
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(applied.value));
  });

  test('arrow keys step a stepped knob from detent to detent', async () => {
    const id = 'comp.ratio';
    const { steps } = getSpec(id);
    const before = observer.hello.values[id];
    const next = steps![steps!.indexOf(before) + 1];
    const update = observer.nextUpdate(id);
    await slider(id).focus();
    await page.keyboard.press('ArrowUp');
    expect((await update).value).toBe(next);
    await expect.poll(() => readout(`knob-value-${id}`)).toBe(`${next.toFixed(2)} :1`);
  });

  test('typing a value: invalid text shows the error and sends nothing, a valid one is applied', async () => {
    const id = 'input.trim';
    const firstUpdate = observer.nextUpdate(id);
    await slider(id).dblclick();
    const field = page.getByTestId(`knob-edit-${id}`);
    await field.fill('loud');
    await field.press('Enter');
    await expect.poll(() => readout(`knob-error-${id}`)).toContain('"loud" is not a number');
    const knob = (await page.getByTestId(`knob-${id}`).boundingBox())!;
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-knob-error.png`, fullPage: true, clip: { x: Math.max(0, knob.x - 40), y: knob.y - 40, width: 360, height: 200 } });
    await field.fill('3.5');
    await field.press('Enter');
    // The first update of the trim after both entries is the valid one: the invalid text sent nothing.
    expect(await firstUpdate).toMatchObject({ id, value: 3.5 });
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe('3.5');
  });

  test('a change made elsewhere moves the knob on the page', async () => {
    // Another client of the rig stands in for a control surface: the page must follow any origin.
    const id = 'comp.attack';
    const spec = getSpec(id);
    const value = 30;
    expect(observer.hello.values[id]).not.toBe(value);
    observer.send({ type: 'set', id, value });
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(value));
    await expect.poll(() => readout(`knob-value-${id}`)).toBe(`30.0 ${spec.unit}`);
  });

  test('shows a banner while the rig is gone and reconnects by itself', async () => {
    await observer.close();
    await rig.stop();
    await expect.poll(() => page.getByTestId('connection-banner').textContent(), { timeout: 10_000 }).toContain('Disconnected');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-disconnected.png` });
    rig = await startRig(rigArgs(), dataDir);
    // The page's backoff tops out at 8 s; it must come back without a reload.
    await expect.poll(() => page.getByTestId('connection-banner').count(), { timeout: 20_000 }).toBe(0);
    observer = await RigSocket.open(rig.url);
    // It shows the new rig's state (the hello), and its meters run again.
    await expect.poll(() => attribute('comp.attack', 'aria-valuenow')).toBe(String(observer.hello.values['comp.attack']));
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      seen.add(await readout('loudness-momentary'));
      await page.waitForTimeout(400);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(pageErrors).toEqual([]);
  });
});
