/**
 * The current value of every parameter, in the main thread. Every change carries its origin so
 * feedback reaches everyone but the surface that made it (a motor fader must not fight the hand
 * moving it). Values are clamped to the schema on the way in; unknown ids are errors.
 */
import {
  PARAMETERS,
  clampValue,
  defaultValues,
  getSpec,
  parameterIndex,
  type ParameterValues,
} from './params.ts';

/** Who changed a parameter: `controller:<id>`, `dashboard:<client>`, `recall`, `cli`, `assist`. */
export type Origin = string;

export interface ParameterChange {
  readonly id: string;
  /** Position in the schema: the index the native chain and shared memory use. */
  readonly index: number;
  readonly value: number;
  readonly previous: number;
  readonly origin: Origin;
}

export type ChangeListener = (change: ParameterChange) => void;

export class ParameterStore {
  private readonly values: ParameterValues = defaultValues();
  private readonly listeners = new Set<ChangeListener>();

  constructor(initial: ParameterValues = {}) {
    for (const [id, value] of Object.entries(initial)) this.values[id] = clampValue(getSpec(id), value);
  }

  get(id: string): number {
    getSpec(id);
    return this.values[id];
  }

  /** Sets one value (clamped to the schema); returns what was applied. Listeners hear only real changes. */
  set(id: string, value: number, origin: Origin): number {
    const spec = getSpec(id);
    const applied = clampValue(spec, value);
    const previous = this.values[id];
    if (applied === previous) return applied;
    this.values[id] = applied;
    const change: ParameterChange = { id, index: parameterIndex(id), value: applied, previous, origin };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        // One broken surface must not stop the change reaching the others (or the engine).
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return applied;
  }

  /** Sets many at once (a recall); every id is checked before anything changes. */
  setMany(values: ParameterValues, origin: Origin): void {
    const checked = Object.entries(values).map(
      ([id, value]) => [id, clampValue(getSpec(id), value)] as const,
    );
    for (const [id, value] of checked) this.set(id, value, origin);
  }

  snapshot(): ParameterValues {
    return { ...this.values };
  }

  /** Every change, whatever its origin. Returns an unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes made by anyone but `origin`: what a surface echoes back to its hardware. */
  subscribeExcept(origin: Origin, listener: ChangeListener): () => void {
    return this.subscribe((change) => {
      if (change.origin !== origin) listener(change);
    });
  }

  static readonly parameterCount = PARAMETERS.length;
}
