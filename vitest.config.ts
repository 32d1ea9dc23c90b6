import { defineConfig } from 'vitest/config';

// Three projects: unit tests (seconds); integration tests that run ffmpeg, the bench, `npm run
// eval`, Python and the shared clips; end-to-end tests that start the real server and real Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One browser at a time: the machine has two cores and WebRTC timing suffers under load.
          fileParallelism: false,
        },
      },
    ],
  },
});
