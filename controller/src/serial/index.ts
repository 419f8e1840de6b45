/** The serial knob box's public surface, re-exported by the controllers' index (../index.ts). */
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
