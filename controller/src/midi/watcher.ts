/**
 * MIDI hot-plug. RtMidi has no portable "device arrived" notification, so the port list is
 * polled: a port matching a mapping's pattern gets a surface, a vanished port's surface is
 * disconnected, and the same surface is reopened when the port returns. Each port name is one
 * surface, so two units of the same model are two surfaces (their port names differ: ALSA adds
 * the client number, easymidi numbers duplicates).
 */
import type { MidiDecoderConfig } from '../events.ts';
import { MidiSurface } from './adapter.ts';
import { EasyMidiBackend, type MidiBackend } from './ports.ts';

export interface MidiPortRule {
  /** A regular expression from a mapping file, matched case-insensitively against input port names. */
  readonly pattern: string;
  readonly decoder: MidiDecoderConfig;
}

export interface IntervalTimers {
  setInterval(callback: () => void, intervalMs: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface MidiWatcherOptions<R extends MidiPortRule> {
  /** The first rule whose pattern matches a port decides how that port is decoded. */
  rules: readonly R[];
  /** Defaults to easymidi (RtMidi). */
  backend?: MidiBackend;
  /** How often the port list is read; listing is a few system calls, so once a second costs nothing. */
  pollIntervalMs?: number;
  timers?: IntervalTimers;
}

export interface MidiPortStatus<R extends MidiPortRule> {
  name: string;
  /** The rule that claimed the port; null for a port no mapping wants. */
  rule: R | null;
  surface: MidiSurface | null;
}

const DEFAULT_POLL_INTERVAL_MS = 1000;

const defaultTimers: IntervalTimers = {
  setInterval(callback, intervalMs) {
    const handle = setInterval(callback, intervalMs);
    handle.unref(); // watching for devices is no reason to keep a finished command alive
    return handle;
  },
  clearInterval(handle) {
    clearInterval(handle as ReturnType<typeof setInterval>);
  },
};

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

interface CompiledRule<R> {
  rule: R;
  regex: RegExp;
}

interface Watched<R> {
  surface: MidiSurface;
  rule: R;
}

type Listeners<R> = {
  connected: Array<(surface: MidiSurface, rule: R) => void>;
  disconnected: Array<(id: string, reason: string) => void>;
  error: Array<(message: string) => void>;
};

export class MidiWatcher<R extends MidiPortRule = MidiPortRule> {
  private readonly backend: MidiBackend;
  private readonly rules: CompiledRule<R>[];
  private readonly pollIntervalMs: number;
  private readonly timers: IntervalTimers;
  private timer: unknown = null;
  private closed = false;

  private readonly watched = new Map<string, Watched<R>>();
  /** Which rule (or none) each port name ever listed matched; patterns are not re-run every poll. */
  private readonly ruleForPort = new Map<string, CompiledRule<R> | null>();
  private lastInputs: string[] = [];
  /** The last problem reported per source, so a persisting problem is reported once, not every poll. */
  private readonly problems = new Map<string, string>();
  private readonly listeners: Listeners<R> = { connected: [], disconnected: [], error: [] };

  /** Throws when a pattern is not a valid regular expression (the pattern is named). */
  constructor(options: MidiWatcherOptions<R>) {
    this.backend = options.backend ?? new EasyMidiBackend();
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!(this.pollIntervalMs > 0))
      throw new RangeError(`MIDI watcher: pollIntervalMs ${options.pollIntervalMs} must be above 0`);
    this.timers = options.timers ?? defaultTimers;
    this.rules = options.rules.map((rule) => {
      try {
        return { rule, regex: new RegExp(rule.pattern, 'i') };
      } catch (error) {
        throw new Error(
          `MIDI port pattern "${rule.pattern}" is not a valid regular expression: ${reasonOf(error)}`,
        );
      }
    });
  }

  on(event: 'connected', listener: (surface: MidiSurface, rule: R) => void): this;
  on(event: 'disconnected', listener: (id: string, reason: string) => void): this;
  on(event: 'error', listener: (message: string) => void): this;
  on(event: keyof Listeners<R>, listener: (...args: never[]) => void): this {
    (this.listeners[event] as Array<typeof listener>).push(listener);
    return this;
  }

  /** Polls at once, then every `pollIntervalMs`, until `close()`. */
  start(): void {
    if (this.closed || this.timer !== null) return;
    this.poll();
    this.timer = this.timers.setInterval(() => this.poll(), this.pollIntervalMs);
  }

  /** One look at the port list. Never throws: every failure is reported as an 'error' event. */
  poll(): void {
    if (this.closed) return;
    try {
      this.pollPorts();
      this.problems.delete('watcher');
    } catch (error) {
      this.report('watcher', `MIDI watcher: ${reasonOf(error)}`);
    }
  }

  /** Every surface the watcher made, connected or waiting for its device to return. */
  surfaces(): MidiSurface[] {
    return [...this.watched.values()].map((w) => w.surface);
  }

  /** The input ports of the last poll, with the rule and surface each one got. */
  ports(): MidiPortStatus<R>[] {
    return this.lastInputs.map((name) => ({
      name,
      rule: this.ruleForPort.get(name)?.rule ?? null,
      surface: this.watched.get(name)?.surface ?? null,
    }));
  }

  /** Why the port list could not be read at the last poll (e.g. no MIDI system), or null. */
  get backendProblem(): string | null {
    return this.problems.get('backend') ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) this.timers.clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.surfaces().map((surface) => surface.close()));
  }

  private pollPorts(): void {
    let inputs: string[];
    try {
      inputs = this.backend.getInputs();
    } catch (error) {
      this.report('backend', reasonOf(error));
      return;
    }
    this.problems.delete('backend');
    this.lastInputs = inputs;
    const present = new Set(inputs);
    for (const [name, { surface }] of this.watched) {
      if (surface.connected && !present.has(name)) surface.disconnect(`port "${name}" is gone`);
    }
    for (const name of inputs) {
      const watched = this.watched.get(name) ?? this.watch(name);
      if (!watched || watched.surface.state !== 'disconnected') continue;
      this.connect(watched);
    }
  }

  private watch(name: string): Watched<R> | null {
    let compiled = this.ruleForPort.get(name);
    if (compiled === undefined) {
      compiled = this.rules.find(({ regex }) => regex.test(name)) ?? null;
      this.ruleForPort.set(name, compiled);
    }
    if (compiled === null) return null;
    const surface = new MidiSurface({
      backend: this.backend,
      portName: name,
      decoder: compiled.rule.decoder,
    });
    surface.onDisconnect((reason) => this.emit('disconnected', surface.id, reason));
    surface.onError((message) => this.report(`surface:${surface.id}`, message));
    const watched = { surface, rule: compiled.rule };
    this.watched.set(name, watched);
    return watched;
  }

  private connect({ surface, rule }: Watched<R>): void {
    try {
      surface.open();
    } catch (error) {
      // Retried every poll (a port can be listed a moment before it opens); reported once.
      this.report(`open:${surface.id}`, reasonOf(error));
      return;
    }
    this.problems.delete(`open:${surface.id}`);
    this.problems.delete(`surface:${surface.id}`);
    if (surface.feedbackProblem)
      this.report(`feedback:${surface.id}`, `${surface.id}: no feedback: ${surface.feedbackProblem}`);
    else this.problems.delete(`feedback:${surface.id}`);
    this.emit('connected', surface, rule);
  }

  private report(source: string, message: string): void {
    if (this.problems.get(source) === message) return;
    this.problems.set(source, message);
    if (this.listeners.error.length === 0) {
      console.warn(message); // nobody listening: the terminal is the only place left to say it
      return;
    }
    this.emit('error', message);
  }

  private emit<E extends keyof Listeners<R>>(event: E, ...args: Parameters<Listeners<R>[E][number]>): void {
    for (const listener of this.listeners[event]) {
      try {
        (listener as (...a: typeof args) => void)(...args);
      } catch (error) {
        if (event !== 'error')
          this.report(`listener:${event}`, `MIDI watcher: a '${event}' listener failed: ${reasonOf(error)}`);
      }
    }
  }
}
