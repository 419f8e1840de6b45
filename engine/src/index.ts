/**
 * The engine's public module for Node code: what the composition root (bin/), the dashboard's
 * server and the controllers import. The page bundles browser-safe.ts instead, re-exported here.
 * Importing it loads no native code: the DSP addon loads on first use (native.ts), SQLite when
 * a database opens, PortAudio in the audio worker or a probe process.
 */
export * from './browser-safe.ts';
export { ParameterStore, type Origin, type ParameterChange, type ChangeListener } from './parameter-store.ts';

// The chain, and the chain over files.
export { MasteringChain, type ChainOptions } from './chain.ts';
export { DemoProgram } from './demo-program.ts';
export {
  LoudnessAnalyzer,
  measureLoudness,
  type LoudnessReport,
  type SignalCounts,
  type SignalReport,
} from './loudness.ts';
export {
  MAX_PASSES,
  TOLERANCE_LU,
  decideDrive,
  type DrivePass,
  type DriveRange,
  type SearchStop,
} from './drive-search.ts';
export {
  analyzeFile,
  analyzeInput,
  cdPath,
  checkMasterFiles,
  master,
  masterFormat,
  renderToTarget,
  targetPath,
  type CodecSafety,
  type MasterFormat,
  type MasterOptions,
  type MasterResult,
  type RenderedFile,
} from './master.ts';
export { codecLabel, type CodecResult } from './delivery/codec-check.ts';
export { playbackGain, playbackTable, type PlaybackGain, type PlaybackRow } from './delivery/playback.ts';
export { ffmpegAvailable, openAudioSource, createAudioSink } from './io/index.ts';
export { formatReports } from './report.ts';
export { WavError, WavReader, WavWriter, parseSampleFormat, type SampleFormat, type WavInfo } from './wav.ts';
export { OutputFileError } from './file-checks.ts';
export { ProgressBar } from './progress.ts';

// Live: the real-time engine and what runs beside it.
export { LiveAudio, type LiveAudioOptions } from './realtime/live-audio.ts';
export { listDevices, type AudioDevice } from './realtime/devices.ts';
export { ChatterFilter } from './realtime/chatter-filter.ts';
export { LoudnessAssist, type AssistOptions, type AssistTarget } from './realtime/loudness-assist.ts';

// Recall: snapshots, the live state, quick slots and undo.
export {
  RECALL_ORIGIN,
  RecallManager,
  sanitizeStoredValues,
  storedSnapshotValues,
  type RecallActions,
  type RecallOptions,
} from './recall/recall.ts';
export { QUICK_SLOTS, SnapshotDatabase, defaultDataDir, type QuickSlot } from './recall/snapshot-db.ts';
export {
  RecallDamageError,
  RecallDatabaseError,
  SnapshotExistsError,
  isCorruption,
} from './recall/recall-errors.ts';
export { openRecallDatabase, type OpenedRecall } from './recall/salvage.ts';
export { LiveRecall, type LiveRecallOptions, type RecallStatus } from './recall/live-recall.ts';
export {
  MAX_SNAPSHOT_NAME_LENGTH,
  checkSnapshotName,
  printableName,
  snapshotNameProblem,
} from './recall/snapshot-name.ts';
export {
  SnapshotError,
  diffSnapshots,
  parseExport,
  toExport,
  type Snapshot,
  type SnapshotDifference,
} from './recall/snapshot.ts';
export { renderRecallSheet } from './recall/recall-sheet.ts';
