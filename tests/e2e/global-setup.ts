import { existsSync } from 'node:fs';
import { CHROMIUM_PATH } from '../../harness/browser.ts';
import { syntheticCameraY4m } from '../../harness/cameras.ts';
import { buildApp } from '../../harness/server.ts';

/** Builds the app the server will serve and writes the fake camera's video, once per run. */
export default async function setup(): Promise<void> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`end-to-end tests need Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  await buildApp();
  await syntheticCameraY4m();
}
