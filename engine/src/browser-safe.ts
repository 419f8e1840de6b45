/**
 * The engine's browser-safe surface: the parameter schema, the meter layout, the delivery presets
 * and the colour palette, with no Node or native dependency, so the dashboard page can bundle it.
 * Node code imports the engine's index (index.ts), which re-exports all of this.
 */
export * from './params.ts';
export * from './meter-layout.ts';
export {
  PRESETS,
  getPreset,
  isPresetName,
  type DeliveryPreset,
  type Normalisation,
  type StreamCodec,
} from './presets.ts';
export { COLORS, type ColorName } from './palette.ts';
