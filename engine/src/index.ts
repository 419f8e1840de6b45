/** The engine's public module: what controllers, the dashboard server and the CLI import. */
export * from './schema.ts';
export { ParameterStore, type Origin, type ParameterChange, type ChangeListener } from './parameter-store.ts';
export { MasteringChain, type ChainOptions } from './chain.ts';
export { DemoProgram } from './demo-program.ts';
