/**
 * The engine's browser-safe surface: the parameter schema, the meter layout and the delivery
 * presets, with no Node or native dependency, so the dashboard page can bundle it. Node code
 * imports the engine's index (index.ts), which re-exports all of this.
 */
export * from './params.ts';
export * from './meter-layout.ts';
export { PRESETS, getPreset, type DeliveryPreset } from './presets.ts';
