// Debian's coturn (`turnserver`) started for a test: the shipped config
// (harness/turnserver.conf) plus free ports and a fresh shared secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TURNSERVER_PATH = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';
const CONFIG = fileURLToPath(new URL('./turnserver.conf', import.meta.url));

export interface Coturn {
  url: string;
  secret: string;
  port: number;
  /** What coturn logged, for a failed test. */
  log: string[];
  close(): Promise<void>;
}

/** A UDP port nobody holds now. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether a STUN Binding request to the port gets an answer (coturn is listening). */
async function answersStun(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(request, 8);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('message', (reply) => {
        clearTimeout(timer);
        resolve(reply.readUInt16BE(0) === 0x0101 && reply.subarray(8, 20).equals(request.subarray(8, 20)));
      });
      socket.send(request, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/**
 * `linkKbps` makes coturn a policed link: its max-bps is bytes/s per TURN session (allocation), and
 * it polices what a session receives and what it sends separately, dropping the excess. A relayed
 * P2P packet crosses both people's allocations, so each direction of a call is held to linkKbps.
 */
export async function startCoturn(options: { linkKbps?: number } = {}): Promise<Coturn> {
  if (!existsSync(TURNSERVER_PATH)) throw new Error(`TURN tests need coturn at ${TURNSERVER_PATH} (apt-get install coturn, or set TURNSERVER_PATH)`);
  const port = await freeUdpPort();
  // Relay ports: a range of 200 away from mediasoup's default 40000-49999.
  const minPort = 50_000 + Math.floor(Math.random() * 75) * 200;
  const secret = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(path.join(tmpdir(), 'kiloface-coturn-'));
  const args = [
    '-c', CONFIG,
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + 199}`,
    `--static-auth-secret=${secret}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    `--userdb=${path.join(dir, 'turndb')}`,
    `--log-file=${path.join(dir, 'turn.log')}`,
    ...(options.linkKbps ? [`--max-bps=${Math.round((options.linkKbps * 1000) / 8)}`] : []),
  ];
  const child: ChildProcess = spawn(TURNSERVER_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (chunk: Buffer): void => void log.push(...String(chunk).split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + 10_000;
  while (!(await answersStun(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await close();
      throw new Error(`coturn did not start (${TURNSERVER_PATH} ${args.join(' ')}):\n${log.slice(-20).join('\n')}`);
    }
  }
  return { url: `turn:127.0.0.1:${port}?transport=udp`, secret, port, log, close };
}
