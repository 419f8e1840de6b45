/**
 * Every control surface the rig runs, in one place: the MIDI hot-plug watcher and the serial
 * knob-box watcher find devices, each device gets its mapping and a mapping engine, and learn
 * rebinds a control on whichever surface moves next. The composition root (rig start), the
 * dashboard's status panel and `rig surfaces` all see surfaces through this class.
 */
import { getSpec } from '../../engine/src/browser-safe.ts';
import type { ParameterStore, RecallActions } from '../../engine/src/index.ts';
import type { ControlEvent, SurfaceAdapter } from './events.ts';
import { Mapper } from './mapping/mapper.ts';
import {
  startLearn,
  emptyMapping,
  learnBinding,
  saveUserMapping,
  type LearnSession,
} from './mapping/learn.ts';
import {
  builtinMappingDir,
  decoderConfig,
  describeAddress,
  findMapping,
  loadMappings,
  userMappingDir,
  type MappingError,
} from './mapping/load.ts';
import type { Mapping } from './mapping/types.ts';
import type { MidiBackend } from './midi/ports.ts';
import { MidiWatcher, type MidiPortRule } from './midi/watcher.ts';

export interface SurfaceStatus {
  id: string;
  kind: 'midi' | 'serial';
  name: string;
  mapping: string | null;
  connected: boolean;
  lastEvent: { at: number; text: string } | null;
  /** Serial boxes only: lines from the box refused as bad since the rig started (each told in the log). */
  badLines?: number;
}

export interface LearnedBinding {
  id: string;
  surface: string;
  control: string;
  file: string;
}

export interface SurfaceManagerOptions {
  store: ParameterStore;
  /** The recall verbs surface buttons reach; the composition root supplies them. */
  actions?: Partial<RecallActions>;
  /** Where learned mappings are written, and read last (taking precedence); default: the user's config folder. */
  userMappingDir?: string;
  /** Read before the user's folder; default: the built-in mappings/. */
  builtinMappingDir?: string;
  /** null: no MIDI at all; default: easymidi. */
  midiBackend?: MidiBackend | null;
  midiPollMs?: number;
  /** Serial discovery: explicit paths always, plus a scan of stable paths unless told not to. */
  serial?: SerialDiscovery | null;
  /** Problems worth a line in the terminal (a device gone, a mapping rejected, a box's bad lines). */
  log?: (line: string) => void;
}

/** How serial knob boxes are found; the serial watcher implements it. */
export interface SerialDiscovery {
  start(
    onConnected: (adapter: SurfaceAdapter, deviceKind: string) => void,
    onDisconnected: (id: string, reason: string) => void,
    /** A line for the log about a connected box, counting `badLines` of its lines as refused. */
    onProblem: (id: string, message: string, badLines: number) => void,
  ): void;
  close(): Promise<void>;
}

interface MidiRule extends MidiPortRule {
  mapping: Mapping;
}

interface Attached {
  adapter: SurfaceAdapter;
  mapping: Mapping;
  engine: Mapper;
  connected: boolean;
  lastEvent: { at: number; text: string } | null;
  badLines: number;
}

export class SurfaceManager {
  readonly mappings: Mapping[];
  readonly mappingErrors: MappingError[];
  private readonly attached = new Map<string, Attached>();
  private midi?: MidiWatcher<MidiRule>;
  private learning?: LearnSession;
  private readonly learnedListeners: Array<(learned: LearnedBinding) => void> = [];
  private readonly log: (line: string) => void;
  private readonly userDir: string;

  constructor(private readonly options: SurfaceManagerOptions) {
    this.log = options.log ?? (() => {});
    this.userDir = options.userMappingDir ?? userMappingDir();
    const loaded = loadMappings([options.builtinMappingDir ?? builtinMappingDir(), this.userDir]);
    this.mappings = loaded.mappings;
    this.mappingErrors = loaded.errors;
    for (const error of loaded.errors) this.log(`mapping rejected: ${error.message}`);
  }

  start(): void {
    if (this.options.midiBackend !== null) {
      const rules: MidiRule[] = this.mappings
        .filter((mapping) => mapping.device.kind === 'midi')
        .map((mapping) => ({
          pattern: (mapping.device as { portName: string }).portName,
          decoder: decoderConfig(mapping),
          mapping,
        }));
      this.midi = new MidiWatcher<MidiRule>({
        rules,
        backend: this.options.midiBackend,
        pollIntervalMs: this.options.midiPollMs,
      });
      this.midi.on('connected', (surface, rule) => this.connected(surface, rule.mapping));
      this.midi.on('disconnected', (id, reason) => this.disconnected(id, reason));
      this.midi.on('error', (message) => this.log(message));
      this.midi.start();
    }
    this.options.serial?.start(
      (adapter, deviceKind) => {
        const mapping =
          findMapping(this.mappings, { kind: 'serial', deviceKind }) ??
          emptyMapping({ kind: 'serial', deviceKind });
        this.connected(adapter, mapping);
      },
      (id, reason) => this.disconnected(id, reason),
      (id, message, badLines) => {
        const entry = this.attached.get(id);
        if (entry) entry.badLines += badLines;
        this.log(message);
      },
    );
  }

  /** For the dashboard's status panel and `rig surfaces`. */
  status(): SurfaceStatus[] {
    return [...this.attached.values()].map((a) => ({
      id: a.adapter.id,
      kind: a.adapter.kind,
      name: a.adapter.name,
      mapping: a.mapping.name,
      connected: a.connected,
      lastEvent: a.lastEvent,
      ...(a.adapter.kind === 'serial' && { badLines: a.badLines }),
    }));
  }

  /** Names of the mappings of connected surfaces (stored with a snapshot). */
  mappingsInUse(): string[] {
    return [...new Set([...this.attached.values()].filter((a) => a.connected).map((a) => a.mapping.name))];
  }

  /** MIDI ports seen, with the mapping that claims each (null: none); empty without MIDI. */
  midiPorts(): Array<{ name: string; mapping: string | null; open: boolean }> {
    return (this.midi?.ports() ?? []).map((port) => ({
      name: port.name,
      mapping: port.rule?.mapping.name ?? null,
      open: Boolean(port.surface?.connected),
    }));
  }

  get midiProblem(): string | null {
    return this.midi?.backendProblem ?? null;
  }

  /** Looks for MIDI devices now rather than at the next poll (tests, `rig surfaces`). */
  pollNow(): void {
    this.midi?.poll();
  }

  /** MIDI learn: the next control that clearly moves on any surface is bound to `paramId`. */
  readonly learn = {
    start: (paramId: string): void => {
      getSpec(paramId);
      if (![...this.attached.values()].some((a) => a.connected))
        throw new Error('learn needs a connected control surface, and none is connected');
      this.learning = startLearn(paramId);
    },
    cancel: (): void => {
      this.learning = undefined;
    },
    current: (): { id: string } | null => (this.learning ? { id: this.learning.paramId } : null),
  };

  onLearned(listener: (learned: LearnedBinding) => void): void {
    this.learnedListeners.push(listener);
  }

  async close(): Promise<void> {
    this.midi?.close();
    await this.options.serial?.close();
    for (const a of this.attached.values()) {
      a.engine.dispose();
      await a.adapter.close().catch(() => {});
    }
    this.attached.clear();
  }

  private connected(adapter: SurfaceAdapter, mapping: Mapping): void {
    const known = this.attached.get(adapter.id);
    if (known) {
      // The same device back after an unplug: its engine (pickup state, layer) carries on, and the
      // hardware is brought up to date with whatever changed meanwhile.
      known.connected = true;
      known.engine.syncAll();
      this.log(`surface ${adapter.id} reconnected`);
      return;
    }
    const entry: Attached = {
      adapter,
      mapping,
      engine: this.engineFor(adapter, mapping),
      connected: true,
      lastEvent: null,
      badLines: 0,
    };
    this.attached.set(adapter.id, entry);
    adapter.onEvent((event) => this.onEvent(entry, event));
    entry.engine.syncAll();
    this.log(`surface ${adapter.id} connected (mapping "${mapping.name}")`);
  }

  private disconnected(id: string, reason: string): void {
    const entry = this.attached.get(id);
    if (!entry) return;
    entry.connected = false;
    this.log(`surface ${id} disconnected: ${reason}`);
  }

  private engineFor(adapter: SurfaceAdapter, mapping: Mapping): Mapper {
    return new Mapper({
      mapping,
      store: this.options.store,
      surfaceId: adapter.id,
      send: (message) => adapter.send(message),
      actions: this.options.actions,
    });
  }

  private onEvent(entry: Attached, event: ControlEvent): void {
    entry.lastEvent = { at: Date.now(), text: describeEvent(event) };
    const session = this.learning;
    if (session) {
      const learned = session.offer(event);
      if (!learned) return; // while learning, controls do not also turn what they are bound to
      this.learning = undefined;
      try {
        const mapping = saveUserMapping(learnBinding(entry.mapping, learned, session.paramId), this.userDir);
        entry.engine.dispose();
        entry.mapping = mapping;
        entry.engine = this.engineFor(entry.adapter, mapping);
        entry.engine.syncAll();
        const result = {
          id: session.paramId,
          surface: entry.adapter.id,
          control: describeAddress(learned.input),
          file: mapping.file ?? '',
        };
        this.log(`learned: ${result.control} on ${result.surface} -> ${result.id} (saved to ${result.file})`);
        for (const listener of this.learnedListeners) listener(result);
      } catch (error) {
        this.log(`learn failed: ${(error as Error).message}`);
      }
      return;
    }
    entry.engine.handle(event);
  }
}

/** Said the way describeAddress names a control (channels 1..16, indices as the protocol counts them). */
function describeEvent(event: ControlEvent): string {
  switch (event.kind) {
    case 'cc':
      return `CC ${event.controller} on channel ${event.channel + 1} = ${event.value}`;
    case 'cc14':
      return `14-bit CC ${event.controller}/${event.controller + 32} on channel ${event.channel + 1} = ${event.value}`;
    case 'nrpn':
      return `NRPN ${event.parameter} on channel ${event.channel + 1} = ${event.value}`;
    case 'note':
      return `note ${event.note} on channel ${event.channel + 1} ${event.on ? 'on' : 'off'}`;
    case 'pitchbend':
      return `pitch bend on channel ${event.channel + 1} = ${event.value}`;
    case 'knob':
      return `knob ${event.index} = ${event.value}`;
    case 'button':
      return `button ${event.index} ${event.pressed ? 'down' : 'up'}`;
    case 'encoder':
      return `encoder ${event.index} ${event.delta > 0 ? '+' : ''}${event.delta}`;
  }
}
