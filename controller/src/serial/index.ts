/** The serial knob box: what the composition root and `rig surfaces` use. */
export {
  KnobBoxSurface,
  NotAKnobBoxError,
  type KnobBoxIdentity,
  type KnobBoxStats,
  type KnobBoxSurfaceOptions,
} from './knob-box-surface.ts';
export { KnobBoxPort } from './port.ts';
export {
  KnobBoxWatcher,
  listSerialCandidates,
  probeKnobBoxes,
  type KnobBoxProbe,
  type KnobBoxWatcherEvents,
  type KnobBoxWatcherOptions,
} from './watcher.ts';
export { KnobBoxSimulator, type SimulatorOptions } from './simulator.ts';
export { duplexPair } from './duplex-pair.ts';
export { systemTimers, type Timers } from './timers.ts';
export { DEVICE_KIND, PROTOCOL_MAJOR, PROTOCOL_MINOR } from './protocol.ts';
