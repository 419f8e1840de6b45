/**
 * The engine's pure public surface: the parameter schema and the meter layout, with no Node or
 * native dependency, so the browser dashboard can bundle it.
 */
export * from './params.ts';
export * from './meter-layout.ts';
export { PRESETS, getPreset, type DeliveryPreset } from './presets.ts';
