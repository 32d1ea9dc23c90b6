// Load check for the signalling server: N rooms × 2 people over real WebSockets, each person
// relaying `--rate` signals a second to the other through the server, at growing N. Prints per
// step the messages relayed per second, relay latency (p50/p99), the server's CPU and memory.
// A benchmark, not a test. The clients come from many loopback addresses (127.0.0.2, .3, …) so
// that the per-address connection limit does not cap the load.
//
//   npm run load:signalling -- [--rooms 50,100,200,400] [--rate 10] [--seconds 10] [--bytes 300]
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { CLOCK_TICKS_PER_SECOND, rssMB, serverCpuTicks, startServerProcess } from './server-process.ts';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50,100,200,400' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    bytes: { type: 'string', default: '300' },
  },
});
const steps = values.rooms.split(',').map(Number);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const padding = 'x'.repeat(Number(values.bytes));
const PEERS_PER_ADDRESS = 50; // under the server's 64 connections per address

interface Peer {
  socket: WebSocket;
  id: string;
  partner?: Peer;
}

const latencies: number[] = [];
let received = 0;
let errors = 0;

function connect(url: string, index: number, room: string, name: string): Promise<Peer> {
  const localAddress = `127.0.${Math.floor(index / PEERS_PER_ADDRESS / 250)}.${2 + (Math.floor(index / PEERS_PER_ADDRESS) % 250)}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`, { localAddress });
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join', room, name })));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; self?: { id: string }; data?: { t: number }; code?: string };
      if (message.type === 'welcome') resolve({ socket, id: message.self!.id });
      else if (message.type === 'signal') {
        received++;
        latencies.push(performance.now() - message.data!.t);
      } else if (message.type === 'error') errors++;
    });
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

async function main(): Promise<void> {
  const server = await startServerProcess(['--quiet', '--no-sfu', '--dist', '/nonexistent-dist']);
  const pid = server.child.pid!;
  const peers: Peer[] = [];
  const ticker = setInterval(() => {
    // Each tick sends a tenth of a second's signals from every peer to its partner.
    const perTick = rate / 10;
    for (const peer of peers) {
      if (!peer.partner || peer.socket.readyState !== WebSocket.OPEN) continue;
      for (let k = 0; k < perTick; k++) peer.socket.send(JSON.stringify({ type: 'signal', to: peer.partner.id, data: { t: performance.now(), padding } }));
    }
  }, 100);
  console.log(`rate ${rate} signals/s per person, ${padding.length} B of padding each; ${seconds} s per step`);
  console.log('rooms  people  relayed/s  p50 ms  p99 ms  errors  server CPU % of one core  server RSS MB  load (1 min)');
  try {
    for (const target of steps) {
      while (peers.length / 2 < target) {
        const room = `load-${peers.length / 2}`;
        const a = await connect(server.url, peers.length, room, 'A');
        const b = await connect(server.url, peers.length + 1, room, 'B');
        a.partner = b;
        b.partner = a;
        peers.push(a, b);
      }
      await new Promise((resolve) => setTimeout(resolve, 2000)); // settle
      latencies.length = 0;
      received = 0;
      errors = 0;
      const cpuBefore = serverCpuTicks(pid);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const cpu = ((serverCpuTicks(pid) - cpuBefore) / CLOCK_TICKS_PER_SECOND / seconds) * 100;
      const sorted = [...latencies].sort((x, y) => x - y);
      const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      console.log(
        `${String(target).padStart(5)}  ${String(peers.length).padStart(6)}  ${(received / seconds).toFixed(0).padStart(9)}  ${percentile(sorted, 0.5).toFixed(1).padStart(6)}  ${percentile(sorted, 0.99).toFixed(1).padStart(6)}  ${String(errors).padStart(6)}  ${cpu.toFixed(1).padStart(24)}  ${rssMB(pid).toFixed(0).padStart(13)}  ${load}`,
      );
      if (server.exited !== undefined) throw new Error(`the server died: ${server.output.slice(-5).join('\n')}`);
    }
  } finally {
    clearInterval(ticker);
    for (const peer of peers) peer.socket.terminate();
    await server.stop();
  }
}

main().catch((error: Error) => {
  console.error(`signalling load check failed: ${error.message}`);
  process.exit(1);
});
