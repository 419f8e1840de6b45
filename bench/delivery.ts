/**
 * `--only delivery` (issue 14): a plain master against a codec-safe one of the same music, at -9
 * and -14 LUFS under -1 dBTP, checked through AAC 128k and 256k, MP3 320k, Opus 96k and 160k and
 * Vorbis 320k: wall time, loudness, the loudness cost and every decoded true peak (8x judge),
 * beside ffmpeg's two-pass loudnorm on the same file (which checks no codec; its output is put
 * through the same codec check).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCodecs, codecLabel } from '../engine/src/delivery/codec-check.ts';
import { LoudnessAnalyzer } from '../engine/src/loudness.ts';
import { master } from '../engine/src/master.ts';
import type { StreamCodec } from '../engine/src/presets.ts';
import { WavReader } from '../engine/src/wav.ts';
import type { Material } from './material.ts';

const CEILING_DBTP = -1;
const CODECS: StreamCodec[] = [
  { codec: 'aac', kbps: 128 },
  { codec: 'aac', kbps: 256 },
  { codec: 'mp3', kbps: 320 },
  { codec: 'opus', kbps: 96 },
  { codec: 'opus', kbps: 160 },
  { codec: 'vorbis', kbps: 320 },
];

interface Row {
  name: string;
  seconds: number;
  lufs: number | null;
  decodedDbtp: number[];
}

function read(file: string) {
  const reader = WavReader.open(file);
  try {
    return { ...reader.read(reader.info.frames), sampleRate: reader.info.sampleRate };
  } finally {
    reader.close();
  }
}

/** ffmpeg's loudnorm in its documented two passes: measure, then normalise linearly with the measures. */
function loudnorm(input: string, output: string, targetLufs: number): void {
  const target = `I=${targetLufs}:TP=${CEILING_DBTP}:LRA=20`;
  const measured = JSON.parse(
    (
      execFileSync(
        'sh',
        [
          '-c',
          `ffmpeg -hide_banner -nostats -i "$1" -af "loudnorm=${target}:print_format=json" -f null - 2>&1 | sed -n '/^{/,/^}/p'`,
          'sh',
          input,
        ],
        { encoding: 'utf8' },
      ) as string
    ).trim(),
  );
  const second = `loudnorm=${target}:measured_I=${measured.input_i}:measured_TP=${measured.input_tp}:measured_LRA=${measured.input_lra}:measured_thresh=${measured.input_thresh}:offset=${measured.target_offset}:linear=true`;
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    input,
    '-af',
    second,
    '-ar',
    '48000',
    '-c:a',
    'pcm_f32le',
    output,
  ]);
}

export async function benchDelivery(
  material: Material,
  log: (line?: string) => void,
): Promise<Record<string, Row[]>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bench-delivery-'));
  const results: Record<string, Row[]> = {};
  try {
    log(`\n## Delivery: codec-safe masters (${material.name}), ceiling ${CEILING_DBTP} dBTP`);
    log(
      '  method: each master encoded and decoded by ffmpeg (aac, libmp3lame, libopus, libvorbis), delay removed, true peak by the 8x judge; loudness BS.1770; wall time on this machine',
    );
    for (const target of [-9, -14]) {
      const rows: Row[] = [];
      const timed = async (name: string, codecSafe: boolean | null) => {
        const output = path.join(dir, `${name.replace(/\W+/g, '-')}.wav`);
        const start = performance.now();
        let lufs: number | null;
        let decoded: number[];
        if (codecSafe === null) {
          loudnorm(material.file, output, target);
          const seconds = (performance.now() - start) / 1000;
          const { left, right, sampleRate } = read(output);
          const analyzer = new LoudnessAnalyzer(sampleRate);
          analyzer.push(left, right);
          lufs = analyzer.report().integratedLufs;
          decoded = (await checkCodecs(output, CODECS, CEILING_DBTP)).map((c) => c.truePeakDbtp);
          rows.push({ name, seconds, lufs, decodedDbtp: decoded });
          return;
        }
        const result = await master({
          input: material.file,
          output,
          targetLufs: target,
          ceilingDbtp: CEILING_DBTP,
          values: {},
          format: 'int24',
          ...(codecSafe ? { codecs: CODECS, codecSafe: true } : {}),
        });
        const seconds = (performance.now() - start) / 1000;
        lufs = result.output.report.integratedLufs;
        // Checked again here, whole, whatever the master reported: the figure is the bench's own.
        decoded = (await checkCodecs(output, CODECS, CEILING_DBTP)).map((c) => c.truePeakDbtp);
        const safety = result.output.codecSafety;
        rows.push({ name, seconds, lufs, decodedDbtp: decoded });
        if (safety)
          log(
            `    codec-safe at ${target} LUFS: ${safety.rerenders} re-renders, ${safety.regionsLowered} regions lowered (deepest ${safety.deepestCutDb.toFixed(2)} dB), ${safety.regionsRechecked} judged again alone, drive ${safety.driveBeforeDb.toFixed(2)} -> ${safety.driveAfterDb.toFixed(2)} dB, ${safety.safe ? 'safe' : 'NOT safe'}`,
          );
      };
      await timed('rig: plain master', false);
      await timed('rig: codec-safe master', true);
      await timed('ffmpeg loudnorm, two-pass linear', null);
      log(`  target ${target} LUFS:`);
      log(
        `  ${''.padEnd(34)}${'time s'.padStart(8)}${'I LUFS'.padStart(8)}${CODECS.map((c) => codecLabel(c).padStart(11)).join('')}`,
      );
      for (const row of rows)
        log(
          `  ${row.name.padEnd(34)}${row.seconds.toFixed(1).padStart(8)}${(row.lufs?.toFixed(2) ?? '-').padStart(8)}${row.decodedDbtp.map((d) => d.toFixed(2).padStart(11)).join('')}`,
        );
      const plain = rows[0].seconds;
      log(`  codec-safe / plain time: ${(rows[1].seconds / plain).toFixed(2)}x`);
      results[`delivery ${target} LUFS`] = rows;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
