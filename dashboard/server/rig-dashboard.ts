/**
 * The dashboard as `rig start` runs it: the server fed by the running engine (meters, health,
 * latency), the parameter store, and whichever of recall, surfaces and learn the rig has. A
 * part the rig does not run answers the page with an error naming what is missing.
 */
import {
  DeviceState,
  METER_FRAME_LENGTH,
  checkValue,
  getPreset,
  getSpec,
  meterValue,
  type LiveAudio,
  type ParameterStore,
  type RecallManager,
} from '../../engine/src/index.ts';
import type { EngineStatus, RecallStatus, SurfaceStatus, TargetState } from '../protocol.ts';
import type { DashboardActions, DashboardStatus } from './hub.ts';
import { DashboardListenError, startDashboard, type DashboardServer } from './server.ts';
import { ProtocolError } from './validate.ts';

export interface RigDashboardOptions {
  engine: Pick<LiveAudio, 'readMeters' | 'sampleRate' | 'block' | 'latencySamples' | 'ioLatencySamples'>;
  store: ParameterStore;
  /** What plays through the chain, as the status panel names it. */
  device: string;
  host?: string;
  port?: number;
  /** The loudness target the rig started with (`--target-preset`). */
  targetPreset?: string;
  recall?: {
    manager: Pick<RecallManager, 'slot' | 'selectSlot' | 'toggleAB' | 'undo' | 'redo' | 'save' | 'recall'>;
    snapshotNames: () => string[];
  };
  /** Damage to the recall database, a failing autosave: shown in the page's snapshot menu. */
  recallStatus?: () => RecallStatus;
  surfaces?: () => SurfaceStatus[];
  learn?: { start(id: string): void; cancel(): void; current(): { id: string } | null };
  resetMeters?: () => void;
  /** Told when the page picks a new target (to retarget the live loudness assist). */
  onTarget?: (target: TargetState) => void;
  staticDir?: string;
}

// The engine's device states as the protocol names them (Starting: opening the device, at start or after a loss).
const ENGINE_STATES: Record<DeviceState, EngineStatus['state']> = {
  [DeviceState.Starting]: 'reopening',
  [DeviceState.Running]: 'running',
  [DeviceState.Demo]: 'demo',
  [DeviceState.Lost]: 'lost',
  [DeviceState.Stopped]: 'stopped',
};

// A loudness target above 0 LUFS or below -60 LUFS is a typo, not a delivery spec.
const TARGET_LUFS_RANGE = [-60, 0] as const;
const SNAPSHOT_LIST_REFRESH_MS = 5000;

function unavailable(what: string): never {
  throw new ProtocolError('unavailable', what);
}

export async function startRigDashboard(options: RigDashboardOptions): Promise<DashboardServer> {
  const { engine, store, recall } = options;
  const meters = new Float32Array(METER_FRAME_LENGTH);
  const initial = options.targetPreset ? getPreset(options.targetPreset) : undefined;
  let target: TargetState = initial
    ? { preset: options.targetPreset!, lufs: initial.targetLufs, ceilingDbtp: initial.ceilingDbtp }
    : { preset: null, lufs: null, ceilingDbtp: null };

  let snapshotNames: string[] = [];
  let snapshotsReadAt = -Infinity;
  const snapshots = (refresh = false): string[] => {
    // The list comes from the database; a few reads a minute are plenty, plus one after each save.
    if (recall && (refresh || performance.now() - snapshotsReadAt > SNAPSHOT_LIST_REFRESH_MS)) {
      snapshotsReadAt = performance.now();
      try {
        snapshotNames = recall.snapshotNames();
      } catch {
        // The last list read stays: an unreadable list must not take the engine's status with it.
      }
    }
    return snapshotNames;
  };

  const ms = (samples: number) => (samples / engine.sampleRate) * 1000;
  const status = (): DashboardStatus => {
    const frame = engine.readMeters(meters);
    return {
      engine: {
        device: options.device,
        // NaN before the worker's first block: still starting.
        state: ENGINE_STATES[meterValue(frame, 'engine.deviceState') as DeviceState] ?? 'reopening',
        sampleRate: engine.sampleRate,
        blockFrames: engine.block,
        chainLatencyMs: ms(engine.latencySamples),
        ioLatencyMs: ms(engine.ioLatencySamples),
      },
      surfaces: options.surfaces?.() ?? [],
      slot: recall?.manager.slot ?? 'A',
      snapshots: snapshots(),
      target,
      learning: options.learn?.current() ?? null,
      recall: options.recallStatus?.(),
    };
  };

  const needRecall = () =>
    recall?.manager ?? unavailable('needs the recall database, which this rig start does not open');
  const actions: DashboardActions = {
    slot: (slot) => needRecall().selectSlot(slot),
    ab: () => void needRecall().toggleAB(),
    undo: () => {
      if (!needRecall().undo()) throw new Error('nothing to undo');
    },
    redo: () => {
      if (!needRecall().redo()) throw new Error('nothing to redo');
    },
    recall: (name) => void needRecall().recall(name),
    save: (name, notes) => {
      needRecall().save(name, notes);
      snapshots(true);
    },
    learn: (id) =>
      (options.learn ?? unavailable('needs a control surface, and this rig start runs none')).start(id),
    learnCancel: () =>
      (options.learn ?? unavailable('needs a control surface, and this rig start runs none')).cancel(),
    target: (preset, lufs, ceilingDbtp) => {
      const base = preset === null ? undefined : getPreset(preset);
      const targetLufs = lufs ?? base?.targetLufs ?? null;
      const ceiling = ceilingDbtp ?? base?.ceilingDbtp ?? null;
      if (targetLufs !== null && (targetLufs < TARGET_LUFS_RANGE[0] || targetLufs > TARGET_LUFS_RANGE[1])) {
        throw new RangeError(
          `${targetLufs} LUFS is outside ${TARGET_LUFS_RANGE[0]}..${TARGET_LUFS_RANGE[1]} LUFS`,
        );
      }
      // The ceiling is the limiter's: its range comes from that parameter.
      if (ceiling !== null) checkValue(getSpec('limiter.ceiling'), ceiling);
      target = { preset, lufs: targetLufs, ceilingDbtp: ceiling };
      // As `--target-preset` does at start: the target's ceiling is the limiter's.
      if (ceiling !== null) store.set('limiter.ceiling', ceiling, 'assist');
      options.onTarget?.(target);
    },
    resetMeters: () => (options.resetMeters ?? unavailable('the engine has no meter reset yet'))(),
  };

  try {
    return await startDashboard({
      store,
      readMeters: (into) => engine.readMeters(into),
      status,
      actions,
      host: options.host,
      port: options.port,
      staticDir: options.staticDir,
    });
  } catch (error) {
    if (error instanceof DashboardListenError) {
      const fix =
        error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
          ? 'choose another with --host H'
          : 'choose another with --port N (0: any free port)';
      throw new DashboardListenError(error.code, error.host, error.port, `${error.message}: ${fix}`);
    }
    throw error;
  }
}
