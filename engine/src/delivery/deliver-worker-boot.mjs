// A delivery worker's entry: registers the TypeScript loader inside the worker thread (loaders
// registered in the main thread do not reach workers), then takes tasks.
import { register } from 'tsx/esm/api';

register();
await import('./deliver-worker.ts');
