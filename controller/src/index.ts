/**
 * The controllers' public module: what the composition root (bin/) imports. Every surface runs
 * behind the surface manager; beside it, the mapping files and the mapper that applies them,
 * learn, the MIDI adapter, the serial knob box (serial/index.ts) and the events contract every
 * adapter speaks.
 */
export {
  SurfaceManager,
  type LearnedBinding,
  type SerialDiscovery,
  type SurfaceManagerOptions,
  type SurfaceStatus,
} from './surfaces.ts';
export type {
  ControlEvent,
  FeedbackMessage,
  MidiChannel,
  MidiDecoderConfig,
  SurfaceAdapter,
} from './events.ts';

// Mappings: files validated against mappings/mapping.schema.json, applied by the mapper.
export {
  MappingError,
  builtinMappingDir,
  describeAddress,
  findMapping,
  loadMapping,
  loadMappings,
  userMappingDir,
  validateMapping,
  type DeviceIdentity,
  type LoadedMappings,
} from './mapping/load.ts';
export type { Address, Binding, ControlSpec, Mapping, MappingDocument } from './mapping/types.ts';
export { Mapper, type MapperOptions } from './mapping/mapper.ts';
export { LearnSession, saveUserMapping, startLearn, type LearnedControl } from './mapping/learn.ts';

// MIDI through easymidi, loaded when a port is first listed.
export { MidiSurface, type MidiSurfaceOptions } from './midi/adapter.ts';
export { EasyMidiBackend, MidiUnavailableError, type MidiBackend } from './midi/ports.ts';
export { MidiWatcher, type MidiPortStatus } from './midi/watcher.ts';

// The serial knob box.
export * from './serial/index.ts';
