/**
 * The dashboard in a real browser against a real rig: `rig start --demo` plays the built-in
 * program through the chain, headless Chromium opens the page it serves, and a second WebSocket
 * client watches the rig from outside the page. The rig first runs without control surfaces;
 * restarted, it finds a knob box: the firmware simulator on one end of a socat pty pair.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KnobBoxSimulator } from '../../controller/src/serial/simulator.ts';
import { MAX_NAME_LENGTH } from '../../dashboard/server/validate.ts';
import {
  formatValue,
  getSpec,
  meterValue,
  positionToValue,
  valueToPosition,
} from '../../engine/src/browser-safe.ts';
import {
  REPO_ROOT,
  RigSocket,
  ensureDashboardBuilt,
  freePort,
  launchChromium,
  startRig,
  type RunningRig,
} from '../helpers/browser.ts';
import { startSocatPair, type SocatPair } from '../helpers/socat-pair.ts';

const ARTIFACTS = `${REPO_ROOT}test-artifacts`;
// The page's knob travel (dashboard/app/src/lib/knob-travel.ts): a full turn per 240 px of drag.
const DRAG_TRAVEL_PX = 240;
// The knob box's pots report 0..1023 (firmware-notes/PROTOCOL.md).
const KNOB_MAX = 1023;
// mappings/rig-knob-box.json: the fourth pot (index 3) turns the compressor's attack.
const ATTACK_POT = 3;

let port: number;
let dataDir: string;
let rig: RunningRig;
let browser: Browser;
let page: Page;
let observer: RigSocket;
let cable: SocatPair;
let box: KnobBoxSimulator;
const pageErrors: string[] = [];

/**
 * The same port every time: the page reconnects to where it came from. No port scan, so the
 * only surface the rig can find is the knob box it is told about; learned mappings go to the
 * test's own config folder.
 */
function startTestRig(withKnobBox: boolean): Promise<RunningRig> {
  const args = [
    '--demo',
    '--output',
    'none',
    '--port',
    String(port),
    '--no-serial-scan',
    ...(withKnobBox ? ['--serial', cable.hostLink] : []),
  ];
  return startRig(args, dataDir, { env: { RIG_CONFIG_DIR: join(dataDir, 'config') } });
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

/** Where the bridge's panels and a knob sit in the document: opening menus and notices must not move them. */
async function layout(): Promise<number[][]> {
  return page.evaluate(() =>
    [
      'meter-canvas-input',
      'loudness-integrated',
      'meter-canvas-output',
      'gr-canvas',
      'knob-comp.attack',
      'switch-chain.bypass',
    ].map((testid) => {
      const box = document.querySelector(`[data-testid="${testid}"]`)!.getBoundingClientRect();
      return [box.x + window.scrollX, box.y + window.scrollY, box.width, box.height];
    }),
  );
}

/** Moves a pot from `from` to `to` in small steps, as a hand does, and waits for the last line to leave. */
async function turnPot(index: number, from: number, to: number): Promise<void> {
  const step = Math.sign(to - from) * 24;
  for (let value = from; step > 0 ? value < to : value > to; value += step) {
    box.turnKnob(index, value);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  box.turnKnob(index, to);
  await box.injectRaw('');
}

/**
 * Every text each loudness figure has shown since the page loaded: a MutationObserver in the
 * page catches each re-render, however briefly it lasts.
 */
async function loudnessTextsSeen(): Promise<Record<string, string[]>> {
  return page.evaluate(
    () => (window as unknown as { loudnessTexts: Record<string, string[]> }).loudnessTexts,
  );
}

function recordLoudnessTexts(): void {
  const seen: Record<string, string[]> = {};
  (window as unknown as { loudnessTexts: Record<string, string[]> }).loudnessTexts = seen;
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      const element = mutation.target instanceof Element ? mutation.target : mutation.target.parentElement;
      const figure = element?.closest('[data-testid^="loudness-"]');
      if (!figure) continue;
      const id = figure.getAttribute('data-testid')!;
      const text = figure.textContent?.trim() ?? '';
      if (!(seen[id] ??= []).includes(text)) seen[id].push(text);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

beforeAll(async () => {
  ensureDashboardBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'rig-dashboard-'));
  cable = await startSocatPair(join(dataDir, 'box'), join(dataDir, 'host'));
  box = await KnobBoxSimulator.open(cable.deviceLink, { serialNumber: 'DASH-0001' });
  rig = await startTestRig(false);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.addInitScript(recordLoudnessTexts);
  await page.goto(rig.url);
  await page.waitForFunction(
    () => /\d/.test(document.querySelector('[data-testid="loudness-momentary"]')?.textContent ?? ''),
    null,
    { timeout: 15_000 },
  );
  observer = await RigSocket.open(rig.url);
});

afterAll(async () => {
  await observer?.close();
  await browser?.close();
  await rig?.stop();
  await box?.close();
  await cable?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard in Chromium against rig start --demo', () => {
  test('meters move and show what the rig measures', async () => {
    const momentary = new Set<string>();
    const outputPictures = new Set<string>();
    const inputPictures = new Set<string>();
    for (
      let i = 0;
      i < 12 && (momentary.size < 3 || outputPictures.size < 3 || inputPictures.size < 3);
      i++
    ) {
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
    await expect
      .poll(async () => figure(await readout('loudness-integrated')), { timeout: 15_000 })
      .toBeLessThan(0);
    const frame = await observer.waitFor(() => observer.latestFrame ?? undefined, 'a meter frame');
    const onPage = figure(await readout('loudness-integrated'));
    expect(Math.abs(onPage - meterValue(frame, 'output.integratedLufs'))).toBeLessThan(0.5);
    // Short-term loudness needs its first 3 s window; the picture is worth taking once it has one.
    await expect
      .poll(async () => figure(await readout('loudness-short-term')), { timeout: 15_000 })
      .toBeGreaterThan(-70);
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
    const update = observer.nextUpdate(
      id,
      (u) =>
        Math.abs(u.value - positionToValue(spec, valueToPosition(spec, before) + dragPx / DRAG_TRAVEL_PX)) <
        1e-6,
    );
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
    await page.screenshot({
      path: `${ARTIFACTS}/dashboard-knob-error.png`,
      fullPage: true,
      clip: { x: Math.max(0, knob.x - 40), y: knob.y - 40, width: 360, height: 200 },
    });
    await field.fill('3.5');
    await field.press('Enter');
    // The first update of the trim after both entries is the valid one: the invalid text sent nothing.
    expect(await firstUpdate).toMatchObject({ id, value: 3.5 });
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe('3.5');
  });

  test('loudness figures show a dash, never −∞, while undefined: integrated after a meter reset', async () => {
    await expect
      .poll(async () => figure(await readout('loudness-integrated')), { timeout: 15_000 })
      .toBeLessThan(0);
    await page.getByTestId('reset-meters').click();
    // The integrated loudness is undefined until a 400 ms block after the reset passes the gate.
    await expect.poll(async () => (await loudnessTextsSeen())['loudness-integrated'] ?? []).toContain('—');
    await expect
      .poll(async () => figure(await readout('loudness-integrated')), { timeout: 15_000 })
      .toBeLessThan(0);
    // From the first frame on (short-term undefined for its first 3 s, too), no figure read −∞ or NaN.
    const seen = await loudnessTextsSeen();
    expect(Object.keys(seen)).toEqual(
      expect.arrayContaining(['loudness-momentary', 'loudness-short-term', 'loudness-integrated']),
    );
    for (const [id, texts] of Object.entries(seen))
      for (const text of texts) expect(text, `${id} showed "${text}"`).not.toMatch(/∞|NaN/);
  });

  test('gain reduction reads as attenuation for every stage, agreeing with the rig', async () => {
    const frame = await observer.waitFor(() => observer.latestFrame ?? undefined, 'a meter frame');
    // A reduction (positive in the meter frame) reads −x.x on the page, like the bars' scale; none
    // reads 0.0. The clipper and the limiter's two stages (peaks, program) sit under the totals.
    for (const key of ['comp', 'limiter', 'clipper', 'limiter-fast', 'limiter-slow']) {
      const text = await readout(`gr-${key}`);
      expect(text).toMatch(/^(−\d+\.\d|0\.0)$/);
      expect(text).not.toBe('−0.0');
    }
    // The deepest reduction since reset moves slowly: the page's figure is the rig's, negated.
    const deepest = figure((await readout('gr-comp-max')).replace('max ', ''));
    expect(Math.abs(deepest + meterValue(frame, 'comp.grMaxDb'))).toBeLessThan(0.5);
  });

  test("the clipper's figure shows its reduction once it is engaged, and 0.0 when bypassed again", async () => {
    const saved = {
      'clipper.bypass': observer.value('clipper.bypass'),
      'clipper.drive': observer.value('clipper.drive'),
    };
    // Bypassed by default: it reduces nothing.
    expect(await readout('gr-clipper')).toBe('0.0');
    try {
      // 12 dB into the clipper shaves the demo program's drum hits by several dB.
      observer.send({ type: 'set', id: 'clipper.drive', value: 12 });
      observer.send({ type: 'set', id: 'clipper.bypass', value: 0 });
      await expect
        .poll(async () => figure(await readout('gr-clipper')), { timeout: 10_000 })
        .toBeLessThan(-0.5);
    } finally {
      for (const [id, value] of Object.entries(saved)) observer.send({ type: 'set', id, value });
    }
    await expect.poll(() => readout('gr-clipper'), { timeout: 10_000 }).toBe('0.0');
  });

  test('a long label alone in its stage wraps onto two lines instead of being cut', async () => {
    const label = page.getByTestId('switch-chain.bypass').locator('.label');
    const fits = await label.evaluate(
      (element) => element.scrollHeight <= element.clientHeight && element.scrollWidth <= element.clientWidth,
    );
    expect(fits).toBe(true);
  });

  test('a snapshot saved from the page is listed, and recalling it brings a changed knob back', async () => {
    const id = 'comp.release';
    const name = 'Chorus lift';
    const savedValue = observer.value(id);
    const before = await layout();
    await page.getByTestId('snapshots-toggle').click();
    await page.getByTestId('snapshot-name').fill(name);
    await page.getByTestId('snapshot-notes').fill('a touch more glue for the last chorus');
    await page.getByTestId('snapshot-save').click();
    await expect.poll(() => page.getByTestId('snapshot-row').filter({ hasText: name }).count()).toBe(1);
    // Stored: the form is cleared for the next one.
    expect(await page.getByTestId('snapshot-name').inputValue()).toBe('');
    await observer.waitFor(
      () => (observer.status.snapshots.includes(name) ? true : undefined),
      `"${name}" in the rig's snapshot list`,
    );

    // Change the release from the page, then recall the snapshot from the page.
    const changed = observer.nextUpdate(id, (u) => u.value !== savedValue);
    await slider(id).focus();
    await page.keyboard.press('PageUp');
    const moved = await changed;
    expect(moved.origin).toMatch(/^dashboard:/);
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(moved.value));

    const recalled = observer.nextUpdate(id, (u) => u.origin === 'recall');
    await page.getByRole('button', { name: `Recall ${name}` }).click();
    expect((await recalled).value).toBe(savedValue);
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(savedValue));
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-snapshots.png` });
    // The drop-down lies over the page: nothing under it moved.
    expect(await layout()).toEqual(before);
  });

  test('a snapshot name the rig refuses shows its reason next to Save and stores nothing', async () => {
    const listed = await page.getByTestId('snapshot-row').count();
    await page.getByTestId('snapshot-name').fill('x'.repeat(MAX_NAME_LENGTH + 1));
    await page.getByTestId('snapshot-save').click();
    await expect.poll(() => readout('snapshot-error')).toContain(`at most ${MAX_NAME_LENGTH}`);
    const error = (await page.getByTestId('snapshot-error').boundingBox())!;
    const save = (await page.getByTestId('snapshot-save').boundingBox())!;
    // Near the control that caused it: within the drop-down, just below the form.
    expect(error.y - (save.y + save.height)).toBeLessThan(60);
    expect(await page.getByTestId('snapshot-row').count()).toBe(listed);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('snapshots-menu').count()).toBe(0);
  });

  test('learn without a control surface shows why the rig cannot', async () => {
    const before = await layout();
    await page.getByTestId('learn-toggle').click();
    // Learn mode lays a button over every control's name.
    await expect
      .poll(() => page.locator('[data-testid^="learn-"][data-testid*="."]').count())
      .toBe(observer.hello.parameters.length);
    await page.getByTestId('learn-comp.attack').click();
    await expect.poll(() => readout('learn-error')).toContain('none is connected');
    expect(await page.getByTestId('learn-prompt').count()).toBe(0);
    expect(observer.status.learning).toBeNull();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-learn-error.png` });
    // Learn mode and its notices change colours and lie over the page: nothing moved.
    expect(await layout()).toEqual(before);
    await page.getByTestId('learn-toggle').click();
    await expect.poll(() => page.getByTestId('learn-comp.attack').count()).toBe(0);
  });

  test('shows a banner while the rig is gone and reconnects by itself, to a rig with a knob box', async () => {
    await observer.close();
    await rig.stop();
    await expect
      .poll(() => page.getByTestId('connection-banner').textContent(), { timeout: 10_000 })
      .toContain('Disconnected');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-disconnected.png` });
    rig = await startTestRig(true);
    // The page's backoff tops out at 8 s; it must come back without a reload.
    await expect.poll(() => page.getByTestId('connection-banner').count(), { timeout: 20_000 }).toBe(0);
    observer = await RigSocket.open(rig.url);
    // It shows the new rig's state (the hello), and its meters run again.
    await expect
      .poll(() => attribute('comp.attack', 'aria-valuenow'))
      .toBe(String(observer.hello.values['comp.attack']));
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      seen.add(await readout('loudness-momentary'));
      await page.waitForTimeout(400);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(pageErrors).toEqual([]);
  });

  test('turning a pot on the knob box moves the knob on the page', async () => {
    const surface = await observer.waitFor(
      () => observer.status.surfaces.find((s) => s.kind === 'serial' && s.connected),
      'the knob box to connect',
      20_000,
    );
    await expect.poll(() => readout('surfaces')).toContain(surface.name);
    const id = 'comp.attack';
    const spec = getSpec(id);
    // Up through the whole travel (the pot picks the value up on the way: soft takeover), then down to rest.
    const rest = 300;
    const expected = positionToValue(spec, rest / KNOB_MAX);
    const arrived = observer.nextUpdate(id, (u) => u.value === expected);
    await turnPot(ATTACK_POT, 0, KNOB_MAX);
    await turnPot(ATTACK_POT, KNOB_MAX, rest);
    expect((await arrived).origin).toMatch(/^controller:/);
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(expected));
    await expect.poll(() => readout(`knob-value-${id}`)).toBe(formatValue(spec, expected));
    // Drawn as a surface's move, not the page's own.
    expect(await page.getByTestId(`knob-${id}`).getAttribute('class')).toContain('controller');
    expect(pageErrors).toEqual([]);
  });

  test("bad lines from the knob box reach the rig's log and the page's bad-lines figure", async () => {
    const surface = observer.status.surfaces.find((s) => s.kind === 'serial' && s.connected)!;
    expect(surface.badLines).toBe(0);
    const logged = rig.output().length;
    // Garbage, 500 bad checksums (K 3 512 gives 9F) and 64 KB of NULs, in one burst.
    await box.injectRaw(
      Buffer.concat([
        Buffer.from('noise without a checksum\n'.repeat(20) + 'K 3 512*00\n'.repeat(500)),
        Buffer.alloc(64 * 1024),
        Buffer.from('\n'),
      ]),
    );
    await expect
      .poll(() => observer.status.surfaces.find((s) => s.id === surface.id)?.badLines, { timeout: 5000 })
      .toBe(521);
    await expect.poll(() => readout('surface-bad-lines')).toBe('521 bad lines');
    await page.getByTestId('surfaces').screenshot({ path: `${ARTIFACTS}/dashboard-bad-lines.png` });
    // The terminal's copy may come a moment after the page's: it is the same report.
    await expect.poll(() => rig.output().slice(logged)).toContain('overlong line dropped');
    // One line a second, so as many as the seconds the pty took to carry the burst.
    const reports = rig
      .output()
      .slice(logged)
      .split('\n')
      .filter((line) => line.startsWith(`surfaces: ${cable.hostLink}: `));
    const counted = (pattern: RegExp) =>
      reports.reduce((sum, line) => sum + Number(pattern.exec(line)?.[1] ?? 0), 0);
    expect(counted(/(\d+) lines? with (?:bad checksums|a bad checksum)/)).toBe(500);
    expect(counted(/(\d+) lines? with bad framing/)).toBe(20);
    expect(counted(/(\d+) overlong lines? dropped/)).toBe(1);
    expect(reports.at(-1)).toMatch(/ in the last second \(last: a line of 65536 bytes\)$/);
    expect(pageErrors).toEqual([]);
  });

  test('learn from the page binds the next pot moved on the knob box, and it then turns the parameter', async () => {
    const id = 'character.drive';
    const learnPot = 7;
    await page.getByTestId('learn-toggle').click();
    await page.getByTestId(`learn-${id}`).click();
    await expect.poll(() => readout('learn-prompt')).toContain('Character · Drive');
    expect(observer.status.learning).toEqual({ id });
    // Cancel ends the learn for everyone: the rig's status says so and the prompt goes.
    await page.getByTestId('learn-cancel').click();
    await expect.poll(() => page.getByTestId('learn-prompt').count()).toBe(0);
    await observer.waitFor(
      () => (observer.status.learning === null ? true : undefined),
      'the learn to be cancelled',
    );

    await page.getByTestId(`learn-${id}`).click();
    await expect.poll(() => page.getByTestId('learn-prompt').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-learning.png` });
    await turnPot(learnPot, 100, 500);
    const learned = await observer.waitFor(
      () => observer.learned.find((l) => l.id === id),
      'the learned binding',
    );
    const surface = observer.status.surfaces.find((s) => s.id === learned.surface)!;
    await expect
      .poll(() => readout('learned'))
      .toBe(`${learned.control} on ${surface.name} now turns Character · Drive`);
    expect(learned.control).toMatch(/knob 7/i);
    expect(await page.getByTestId('learn-prompt').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-learned.png` });
    await page.getByTestId('learn-toggle').click();

    // The confirmation is true: the pot now turns the drive, and the page's knob follows.
    const spec = getSpec(id);
    const rest = 200;
    const expected = positionToValue(spec, rest / KNOB_MAX);
    const arrived = observer.nextUpdate(id, (u) => u.value === expected);
    await turnPot(learnPot, 0, KNOB_MAX);
    await turnPot(learnPot, KNOB_MAX, rest);
    expect((await arrived).origin).toMatch(/^controller:/);
    await expect.poll(() => attribute(id, 'aria-valuenow')).toBe(String(expected));
    expect(pageErrors).toEqual([]);
  });
});
