/**
 * The dashboard's WebSocket protocol (../shared/DESIGN.md): JSON text frames for control in both
 * directions, binary frames for meters. Imported by the server and bundled into the page, so it
 * depends on nothing but the engine's browser-safe surface.
 *
 * Binary frame: exactly METER_FRAME_LENGTH little-endian Float32 values in METER_LAYOUT order
 * (engine/src/meter-layout.ts), one per meter tick (30-60 Hz). Nothing else travels as binary.
 */
import type { ParameterSpec } from '../engine/src/browser-safe.ts';

export const PROTOCOL_VERSION = 1;

/** Largest control frame a client may send; anything bigger closes the connection (1009). */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

export type SlotName = 'A' | 'B' | 'C' | 'D';

/** Client -> server. Every field is checked; an invalid frame gets an `error` reply naming the problem. */
export type ClientMessage =
  | { type: 'set'; id: string; value: number }
  /** Level-matched bypass of the whole chain (the `chain.bypass` parameter). */
  | { type: 'bypass'; on: boolean }
  | { type: 'slot'; slot: SlotName }
  | { type: 'ab' }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'recall'; name: string }
  | { type: 'save'; name: string; notes?: string }
  /** Bind the next control moved on a surface to parameter `id` (saved to a user mapping). */
  | { type: 'learn'; id: string }
  | { type: 'learnCancel' }
  /**
   * Loudness target for the panel and the live loudness assist: a preset by name, `preset: null`
   * alone for none, and a custom target as `{ type: 'target', preset: null, lufs, ceilingDbtp }`
   * (there is no preset called 'custom': the server rejects it as an unknown preset).
   */
  | { type: 'target'; preset: string | null; lufs?: number; ceilingDbtp?: number }
  | { type: 'resetMeters' }
  | { type: 'ping'; t: number };

export interface ParameterUpdate {
  id: string;
  value: number;
  origin: string;
}

export interface TargetState {
  preset: string | null;
  lufs: number | null;
  ceilingDbtp: number | null;
}

export interface SurfaceStatus {
  id: string;
  kind: 'midi' | 'serial';
  name: string;
  mapping: string | null;
  connected: boolean;
  lastEvent: { at: number; text: string } | null;
  /** Serial knob boxes only: lines from the box refused as bad since the rig started. */
  badLines?: number;
}

export interface EngineStatus {
  device: string;
  state: 'running' | 'lost' | 'reopening' | 'stopped' | 'demo';
  sampleRate: number;
  blockFrames: number;
  chainLatencyMs: number;
  ioLatencyMs: number;
}

/** What is wrong with recall (engine/src/recall/live-recall.ts keeps it); the audio runs on regardless. */
export interface RecallStatus {
  /** Why the live state is not being autosaved (a full disk, a read-only database), or null while it is. */
  autosaveError: string | null;
  /** Damage found in the recall database and what was done about it, each naming the file. */
  problems: string[];
}

export interface StatusMessage {
  type: 'status';
  engine: EngineStatus;
  surfaces: SurfaceStatus[];
  slot: SlotName;
  snapshots: string[];
  target: TargetState;
  learning: { id: string } | null;
  /** Absent from a rig that does not report on recall. */
  recall?: RecallStatus;
}

/** Server -> client. */
export type ServerMessage =
  | {
      type: 'hello';
      protocol: number;
      clientId: string;
      parameters: readonly ParameterSpec[];
      values: Record<string, number>;
      meterLayout: { offsets: Record<string, number>; widths: Record<string, number>; length: number };
      presets: Record<string, { targetLufs: number; ceilingDbtp: number; note: string }>;
      status: Omit<StatusMessage, 'type'>;
    }
  /** Changes since the last one, batched per tick; a client's own changes come back too (origin tells). */
  | { type: 'params'; changes: ParameterUpdate[] }
  | StatusMessage
  | { type: 'learned'; id: string; surface: string; control: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong'; t: number };
