/**
 * The built-in demo program: drums, bass and chords, generated, never the same bar twice
 * (seeded noise), with the dynamics a mastering chain audibly works on: transient kicks for
 * the compressor and limiter, a wide pad for the image stage, sub bass for bass mono.
 * Streams block by block so the live engine can play it forever without a file.
 */

const BPM = 122;
// i - VI - III - VII in A minor: roots in Hz of the bass, chords as semitone offsets from A3.
const BASS_ROOTS_HZ = [55, 43.65, 65.41, 49];
const CHORDS = [
  [0, 3, 7, 12],
  [-4, 0, 3, 8],
  [3, 7, 10, 15],
  [-2, 2, 5, 10],
];
const A3_HZ = 220;

export class DemoProgram {
  private frame = 0;
  private seed: number;
  private readonly samplesPerBeat: number;
  private readonly phases = new Float64Array(16);
  private lowpassL = 0;
  private lowpassR = 0;
  private hatState = 0;

  constructor(
    readonly sampleRate: number,
    seed = 0x1234abcd,
  ) {
    this.samplesPerBeat = (60 / BPM) * sampleRate;
    this.seed = seed >>> 0;
  }

  private noise(): number {
    // xorshift32: cheap, deterministic, good enough for drum noise.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 2147483648 - 1;
  }

  /** Fills the next block of the program (unmastered: about -20 LUFS, peaks near -5 dBFS). */
  fill(left: Float32Array, right: Float32Array): void {
    const sr = this.sampleRate;
    const spb = this.samplesPerBeat;
    for (let i = 0; i < left.length; i++, this.frame++) {
      const beatPos = this.frame / spb;
      const beat = Math.floor(beatPos);
      const inBeat = ((beatPos - beat) * spb) / sr; // seconds since the beat
      const bar = Math.floor(beat / 4);
      const chord = bar % 4;
      const eighth = (((beatPos * 2) % 1) * spb) / 2 / sr;

      // Kick on every beat: a pitch-swept sine with a fast decay.
      const kickFreq = 45 + 110 * Math.exp(-inBeat * 30);
      this.phases[0] += (2 * Math.PI * kickFreq) / sr;
      const kick = Math.sin(this.phases[0]) * Math.exp(-inBeat * 7) * 0.9;

      // Snare on 2 and 4: noise plus a body tone.
      const snareOn = beat % 2 === 1;
      const snareEnv = snareOn ? Math.exp(-inBeat * 18) : 0;
      this.phases[1] += (2 * Math.PI * 185) / sr;
      const snareNoise = this.noise();
      const snare = snareEnv * (0.35 * snareNoise + 0.25 * Math.sin(this.phases[1]));

      // Hats on eighths: high-passed noise, panned right.
      const hatRaw = this.noise();
      const hatHp = hatRaw - this.hatState;
      this.hatState = hatRaw;
      const hat = hatHp * Math.exp(-eighth * 60) * 0.12;

      // Bass: a softly clipped saw an octave and a fifth, on the chord root.
      const root = BASS_ROOTS_HZ[chord];
      this.phases[2] = (this.phases[2] + root / sr) % 1;
      const saw = 2 * this.phases[2] - 1;
      const bassEnv = 0.6 + 0.4 * Math.exp(-(((beatPos % 1) * spb) / sr) * 4);
      const bass = Math.tanh(2 * saw) * 0.32 * bassEnv;

      // Pad: detuned triangles per chord note, spread across the stereo field.
      let padL = 0;
      let padR = 0;
      const notes = CHORDS[chord];
      for (let n = 0; n < notes.length; n++) {
        const f = A3_HZ * Math.pow(2, notes[n] / 12);
        for (let d = 0; d < 2; d++) {
          const k = 3 + n * 2 + d;
          this.phases[k] = (this.phases[k] + (f * (d ? 1.004 : 0.996)) / sr) % 1;
          const tri = 1 - 4 * Math.abs(this.phases[k] - 0.5);
          if (d) padR += tri;
          else padL += tri;
        }
      }
      // A gentle swell per bar keeps the short-term loudness moving.
      const swell = 0.055 * (0.75 + 0.25 * Math.sin((2 * Math.PI * beatPos) / 8));
      this.lowpassL += 0.15 * (padL * swell - this.lowpassL);
      this.lowpassR += 0.15 * (padR * swell - this.lowpassR);

      const centre = kick + bass + snare;
      left[i] = 0.3 * (centre + this.lowpassL + 0.6 * hat);
      right[i] = 0.3 * (centre + this.lowpassR + hat);
    }
  }

  /** A whole stretch of the program, for tests and benchmarks. */
  static render(
    sampleRate: number,
    seconds: number,
    seed?: number,
  ): { left: Float32Array; right: Float32Array } {
    const frames = Math.round(sampleRate * seconds);
    const program = new DemoProgram(sampleRate, seed);
    const left = new Float32Array(frames);
    const right = new Float32Array(frames);
    program.fill(left, right);
    return { left, right };
  }
}
