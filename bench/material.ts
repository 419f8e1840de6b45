/** Benchmark material: the generated program, and real music when the machine has some. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DemoProgram } from '../engine/src/demo-program.ts';
import { WavReader, WavWriter, interleave } from '../engine/src/wav.ts';

export const CACHE = path.resolve(import.meta.dirname, '../.bench-cache');
const MUSIC_DIR = '/usr/share/hyperrogue/music';

export interface Material {
  name: string;
  file: string;
  left: Float32Array;
  right: Float32Array;
  sampleRate: number;
  seconds: number;
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function load(name: string, file: string): Material {
  const reader = WavReader.open(file);
  const { left, right } = reader.read(reader.info.frames);
  reader.close();
  return {
    name,
    file,
    left,
    right,
    sampleRate: reader.info.sampleRate,
    seconds: reader.info.durationSeconds,
  };
}

export function generated(seconds: number): Material {
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `generated-${seconds}s.wav`);
  if (!fs.existsSync(file)) {
    const { left, right } = DemoProgram.render(48000, seconds);
    const writer = new WavWriter(file, { sampleRate: 48000, channels: 2, format: 'float32' });
    writer.write(interleave(left, right, 2));
    writer.close();
  }
  return load(`generated program (${seconds} s)`, file);
}

/**
 * Real mixed music: `--music FILE`, else Debian's hyperrogue-music decoded and joined to
 * `seconds` of 48 kHz stereo float (cached). Undefined when neither is available.
 */
export function music(seconds: number, given?: string): Material | undefined {
  if (given) {
    if (!hasCommand('ffmpeg') && !given.endsWith('.wav'))
      throw new Error(`--music ${given}: ffmpeg is needed to decode it`);
    const file = path.join(CACHE, `music-given-48k.wav`);
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      given,
      '-ar',
      '48000',
      '-ac',
      '2',
      '-c:a',
      'pcm_f32le',
      file,
    ]);
    return load(`music (${path.basename(given)})`, file);
  }
  if (!fs.existsSync(MUSIC_DIR) || !hasCommand('ffmpeg')) return undefined;
  fs.mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `hyperrogue-${seconds}s-48k.wav`);
  if (!fs.existsSync(file)) {
    // Some packaged tracks do not decode; leave those out rather than cut the material short.
    const decodes = (track: string) => {
      try {
        execFileSync(
          'ffmpeg',
          ['-v', 'error', '-i', path.join(MUSIC_DIR, track), '-t', '1', '-f', 'null', '-'],
          { stdio: 'ignore' },
        );
        return true;
      } catch {
        return false;
      }
    };
    const tracks = fs
      .readdirSync(MUSIC_DIR)
      .filter((f) => f.endsWith('.ogg'))
      .sort()
      .filter(decodes);
    const list = path.join(CACHE, 'tracks.txt');
    fs.writeFileSync(list, tracks.map((t) => `file '${path.join(MUSIC_DIR, t)}'`).join('\n'));
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      list,
      '-t',
      String(seconds),
      '-ar',
      '48000',
      '-ac',
      '2',
      '-c:a',
      'pcm_f32le',
      file,
    ]);
  }
  return load(`real music (hyperrogue-music, ${seconds} s)`, file);
}
