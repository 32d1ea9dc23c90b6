import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { CHROMIUM_PATH } from './helpers/browser.ts';
import { writeSyntheticFaceY4m } from './helpers/y4m.ts';

export const E2E_OUTPUT = path.resolve('test-output/e2e');
export const FAKE_CAMERA_Y4M = path.join(E2E_OUTPUT, 'synthetic-face-320x240.y4m');

/** Builds the app the server will serve and writes the fake camera's video, once per run. */
export default async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`end-to-end tests need Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  mkdirSync(E2E_OUTPUT, { recursive: true });
  await build({ configFile: path.resolve('vite.config.ts'), logLevel: 'warn' });
  if (!existsSync(FAKE_CAMERA_Y4M)) {
    await writeSyntheticFaceY4m(FAKE_CAMERA_Y4M, { width: 320, height: 240, fps: 25, frames: 125 });
  }
}
