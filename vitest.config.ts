import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Every run gets its own recall database and user-mapping folder, so a rig started by a test
// neither restores the developer's last sound nor leaves its own behind for the next test.
const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-test-home-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The DSP suites are CPU-bound; two workers match the two cores CI has.
    maxWorkers: 2,
    env: {
      RIG_DATA_DIR: path.join(sandbox, 'data'),
      RIG_CONFIG_DIR: path.join(sandbox, 'config'),
    },
  },
});
