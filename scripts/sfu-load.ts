// Load check for the SFU: N rooms × 2 people in SFU mode, each person sending the codec's packets
// (25 messages/s on the unreliable channel, 1/s on the reliable one) besides low-rate audio+video,
// and the server's CPU (Node process + mediasoup workers) measured from /proc at each N.
// A benchmark, not a test: prints a table.
//
//   npm run load:sfu -- [--rooms 1,2,4,6] [--seconds 15] [--workers 2]
//
// The browsers run on the same machine: on a 2-core machine they, not the server, run out of CPU
// first, so the figure that carries over is the server's CPU per room.
import { PacketType, writePacket } from '../codec/bitstream/packet.ts';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, openPage, type OpenedPage } from '../harness/browser.ts';
import { syntheticCameraY4m } from '../harness/cameras.ts';
import { buildApp } from '../harness/server.ts';
import { CLOCK_TICKS_PER_SECOND, serverCpuTicks } from './server-process.ts';

const { values } = parseArgs({ options: { rooms: { type: 'string', default: '1,2,4' }, seconds: { type: 'string', default: '15' }, workers: { type: 'string', default: '2' } } });
const steps = values.rooms.split(',').map(Number);
const seconds = Number(values.seconds);
/** One geometry anchor (40 bytes), as a sender's control channel carries after each reference. */
const CONTROL_PACKET = [...writePacket({ type: PacketType.GeometryAnchor, sequence: 1, timestampMs: 0, referenceId: 1 }, new Uint8Array(34))];

async function main(): Promise<void> {
  const y4m = await syntheticCameraY4m();
  await buildApp();
  const port = 18000 + Math.floor(Math.random() * 1000);
  // `node --import tsx` rather than `npx tsx`: the pid is then the server itself, for /proc.
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', String(port), '--quiet', '--sfu-workers', values.workers], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const url = `http://127.0.0.1:${port}`;
  const browser = await launchChromium(y4m);
  const pages: OpenedPage[] = [];
  console.log('rooms  people  server CPU % of one core  per room  machine load (1 min)');
  try {
    let rooms = 0;
    for (const target of steps) {
      for (; rooms < target; rooms++) {
        for (const name of ['A', 'B']) {
          const opened = await openPage(browser, `${url}/r/load-${rooms}?name=${name}&mode=sfu&cap=20&neural=off`);
          pages.push(opened);
        }
      }
      for (const p of pages) {
        await p.page.waitForFunction(() => (window.kiloface?.call?.links().length ?? 0) === 1, undefined, { timeout: 60_000 });
        // Control carries a real codec packet: the server reads and relays those (server/sfu/control-relay.ts).
        await p.page.evaluate((anchor) => {
          const w = window as unknown as { loadTimer?: number };
          if (w.loadTimer) return;
          const packet = new Uint8Array(40);
          const control = new Uint8Array(anchor);
          let n = 0;
          w.loadTimer = window.setInterval(() => {
            window.kiloface!.call!.broadcast('frames', packet);
            if (++n % 25 === 0) window.kiloface!.call!.broadcast('control', control);
          }, 40);
        }, CONTROL_PACKET);
      }
      await new Promise((resolve) => setTimeout(resolve, 3000)); // settle
      const before = serverCpuTicks(server.pid!);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const percent = ((serverCpuTicks(server.pid!) - before) / CLOCK_TICKS_PER_SECOND / seconds) * 100;
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      console.log(`${String(rooms).padStart(5)}  ${String(rooms * 2).padStart(6)}  ${percent.toFixed(1).padStart(24)}  ${(percent / rooms).toFixed(1).padStart(8)}  ${load}`);
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

main().catch((error: Error) => {
  console.error(`load check failed: ${error.message}`);
  process.exit(1);
});
