/**
 * Builds the dashboard page (dashboard/app) into static files in dashboard/dist, which the
 * dashboard server serves as they are. `base: './'` keeps every asset URL relative, so the page
 * works behind any path prefix a reverse proxy might add.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./app'),
  base: './',
  plugins: [svelte()],
  logLevel: 'warn',
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    // Current Chromium and Firefox; no legacy transforms to pay for.
    target: 'es2022',
    reportCompressedSize: false,
  },
});
