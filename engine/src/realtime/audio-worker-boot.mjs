// The audio worker's entry: registers the TypeScript loader inside the worker thread (loaders
// registered in the main thread do not reach workers), then starts the loop.
import { register } from 'tsx/esm/api';

register();
await import('./audio-worker.ts');
