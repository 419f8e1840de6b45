/**
 * The mapper: one per connected surface. Control events become parameter changes in the
 * ParameterStore (with the surface as origin), and parameter changes become feedback (rings,
 * motor faders, button lights), so the hardware always shows the rig's state. Everything every
 * controller needs lives in this folder once: relative encoder decoding and acceleration, soft
 * takeover, stepped parameters, fine adjust, layers, and rate-limited feedback. Messages are
 * decoded in decode.ts, each control's gestures kept in control.ts, feedback rendered and paced
 * in feedback.ts; this class routes between them and holds the surface's layer and fine state.
 */
import type { ParameterChange, ParameterStore, RecallActions } from '../../../engine/src/index.ts';
import type { ControlEvent, FeedbackMessage } from '../events.ts';
import { Control, buttonValue } from './control.ts';
import { absolutePosition, isPress, onWire, relativeTicks, sourceKey } from './decode.ts';
import {
  DEFAULT_FEEDBACK_INTERVAL_MS,
  FeedbackOutlet,
  feedbackMessage,
  type SurfaceView,
} from './feedback.ts';
import {
  bindingOn,
  feedbackAddress,
  isButtonBinding,
  isParameterBinding,
  layerNames,
  type ActionBinding,
  type Mapping,
  type ParameterBinding,
} from './types.ts';

const DEFAULT_FINE_FACTOR = 0.1;

export interface MapperOptions {
  mapping: Mapping;
  store: ParameterStore;
  surfaceId: string;
  send: (message: FeedbackMessage) => void;
  /** The recall verbs this surface's buttons reach; a verb left out makes its button do nothing. */
  actions?: Partial<RecallActions>;
  feedbackIntervalMs?: number;
  now?: () => number;
}

export class Mapper {
  private readonly mapping: Mapping;
  private readonly store: ParameterStore;
  private readonly origin: string;
  private readonly actions: Partial<RecallActions>;
  private readonly now: () => number;
  private readonly fineFactor: number;
  private readonly firstLayer: string;

  private readonly controls: Control[];
  private readonly byInput = new Map<number, Control>();
  /** Controls bound to each parameter on the current layer. */
  private byParameter = new Map<string, Control[]>();
  private layer: string;
  private layerBeforeHold: string | undefined;
  private fine = false;
  /** The control whose event is being applied, so its own change is not echoed back to it. */
  private handling: Control | undefined;
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(options: MapperOptions) {
    this.mapping = options.mapping;
    this.store = options.store;
    this.origin = `controller:${options.surfaceId}`;
    this.actions = options.actions ?? {};
    this.now = options.now ?? (() => performance.now());
    this.fineFactor = this.mapping.fineFactor ?? DEFAULT_FINE_FACTOR;
    this.firstLayer = layerNames(this.mapping)[0];
    this.layer = this.firstLayer;

    const timing = {
      intervalMs: options.feedbackIntervalMs ?? DEFAULT_FEEDBACK_INTERVAL_MS,
      now: this.now,
    };
    const view: SurfaceView = {
      activeLayer: () => this.layer,
      fineHeld: () => this.fine,
      value: (id) => this.store.get(id),
    };
    this.controls = this.mapping.controls.map((spec) => {
      const to = feedbackAddress(spec);
      const render = () => feedbackMessage(spec, to!, bindingOn(spec, this.layer), view);
      return new Control(spec, to ? new FeedbackOutlet(timing, render, options.send) : undefined);
    });
    for (const control of this.controls) this.byInput.set(sourceKey(onWire(control.spec.input)), control);
    this.indexLayer();
    this.unsubscribe = this.store.subscribe((change) => this.onParameterChange(change));
  }

  handle(event: ControlEvent): void {
    if (this.disposed) return;
    const control = this.byInput.get(sourceKey(event));
    if (!control) return;
    const input = control.spec.input.kind;
    if (
      input === 'note' ||
      input === 'button' ||
      control.heldBinding ||
      isButtonBinding(bindingOn(control.spec, this.layer))
    ) {
      this.button(control, event);
      return;
    }
    const binding = bindingOn(control.spec, this.layer);
    if (!binding || !isParameterBinding(binding)) return;
    if (binding.mode === 'absolute')
      this.absolute(control, binding, absolutePosition(event, control.spec.input));
    else this.relative(control, binding, relativeTicks(binding.mode, event));
  }

  syncAll(): void {
    for (const control of this.controls) this.queueFeedback(control, true);
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    for (const control of this.controls) control.outlet?.close();
  }

  /** The active layer (page); exposed for status displays and tests. */
  get activeLayer(): string {
    return this.layer;
  }

  private setParameter(control: Control, id: string, value: number): number {
    this.handling = control;
    try {
      control.lastValueSet = this.store.set(id, value, this.origin);
    } finally {
      this.handling = undefined;
    }
    return control.lastValueSet;
  }

  private absolute(control: Control, binding: ParameterBinding, position: number): void {
    const value = control.absolute(binding, position, this.store.get(binding.param));
    if (value !== undefined) this.setParameter(control, binding.param, value);
  }

  private relative(control: Control, binding: ParameterBinding, ticks: number): void {
    const fineScale = this.fine ? this.fineFactor : 1;
    const value = control.relative(binding, ticks, this.store.get(binding.param), this.now(), fineScale);
    if (value !== undefined) this.setParameter(control, binding.param, value);
  }

  private button(control: Control, event: ControlEvent): void {
    const press = control.button(isPress(event), this.layer);
    if (!press) return;
    if (!isParameterBinding(press.binding)) this.action(control, press.binding, press.pressed);
    else this.parameterButton(control, press.binding, press.pressed);
    if (press.pressEach) this.queueFeedback(control, true);
  }

  private parameterButton(control: Control, binding: ParameterBinding, pressed: boolean): void {
    if (!pressed && binding.mode !== 'momentary') {
      // Many devices light a button while it is held and darken it on release by themselves;
      // the state it should show is sent again after that.
      this.queueFeedback(control, true);
      return;
    }
    const value = buttonValue(binding, pressed, this.store.get(binding.param));
    if (value !== undefined) this.setParameter(control, binding.param, value);
  }

  private action(control: Control, binding: ActionBinding, pressed: boolean): void {
    switch (binding.action) {
      case 'fine':
        this.fine = pressed;
        this.queueFeedback(control, true);
        return;
      case 'layer':
        if (binding.hold) {
          if (pressed) {
            this.layerBeforeHold = this.layer;
            this.selectLayer(binding.layer);
          } else {
            this.selectLayer(this.layerBeforeHold ?? this.firstLayer);
            this.layerBeforeHold = undefined;
          }
        } else if (pressed) {
          this.selectLayer(this.layer === binding.layer ? this.firstLayer : binding.layer);
        } else {
          this.queueFeedback(control, true);
        }
        return;
    }
    if (!pressed) return;
    switch (binding.action) {
      case 'slot':
        this.actions.selectSlot?.(binding.slot);
        return;
      case 'ab':
        this.actions.toggleAB?.();
        return;
      case 'undo':
        this.actions.undo?.();
        return;
      case 'redo':
        this.actions.redo?.();
        return;
    }
  }

  /** A page change rebinds the controls: pots must be picked up again, and every light shows the new page. */
  private selectLayer(layer: string): void {
    if (layer === this.layer) return;
    this.layer = layer;
    this.indexLayer();
    // The pots stay where they are, so their positions still count for crossing the new values.
    for (const control of this.controls) control.losePickup();
    this.syncAll();
  }

  private indexLayer(): void {
    const index = new Map<string, Control[]>();
    for (const control of this.controls) {
      const binding = bindingOn(control.spec, this.layer);
      if (!binding || !isParameterBinding(binding)) continue;
      const list = index.get(binding.param) ?? [];
      list.push(control);
      index.set(binding.param, list);
    }
    this.byParameter = index;
  }

  private onParameterChange(change: ParameterChange): void {
    const bound = this.byParameter.get(change.id);
    if (!bound) return;
    for (const control of bound) {
      if (control === this.handling) {
        // The hand on an absolute control already shows its position (a motor fader must not
        // fight it, an endless encoder must not be snapped back mid-turn). Encoders and buttons
        // cannot know the resulting value, so they are told.
        const binding = bindingOn(control.spec, this.layer) as ParameterBinding;
        if (binding.mode === 'absolute') continue;
      } else {
        control.losePickup();
      }
      this.queueFeedback(control, false);
    }
  }

  private queueFeedback(control: Control, force: boolean): void {
    if (!this.disposed) control.outlet?.queue(force);
  }
}
