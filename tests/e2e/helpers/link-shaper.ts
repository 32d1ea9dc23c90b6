// A link whose rate changes during a call: a UDP relay of our own between the browsers and coturn
// (coturn's max-bps is fixed at start). Each client's datagrams to coturn and coturn's to the client
// pass a token bucket per direction that drops what exceeds the rate, as coturn does; setKbps
// changes every bucket at once. For tests/e2e/constrained-link.test.ts: a link that recovers.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface LinkShaper {
  /** The TURN URL the browsers use (this relay's port, in front of coturn's). */
  url: string;
  setKbps(kbps: number): void;
  /** Datagrams passed and dropped so far, both directions together. */
  readonly counts: { passed: number; dropped: number };
  close(): Promise<void>;
}

/** Lets through what fits `bytesPerSecond` with a burst of a quarter second (at least two full datagrams). */
class TokenBucket {
  private tokens: number;
  private atMs = performance.now();

  constructor(private bytesPerSecond: number) {
    this.tokens = this.burst;
  }

  private get burst(): number {
    return Math.max(3000, this.bytesPerSecond / 4);
  }

  setRate(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  take(bytes: number): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.atMs) / 1000) * this.bytesPerSecond);
    this.atMs = now;
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}

interface Client {
  upstream: Socket;
  up: TokenBucket;
  down: TokenBucket;
}

/** Starts the relay on a free loopback port in front of coturn at `turnPort`, at `kbps` each way per client. */
export async function startLinkShaper(options: { turnPort: number; kbps: number }): Promise<LinkShaper> {
  let rate = (options.kbps * 1000) / 8;
  const counts = { passed: 0, dropped: 0 };
  const clients = new Map<string, Client>();
  const front = createSocket('udp4');
  const pass = (bucket: TokenBucket, bytes: number): boolean => {
    const ok = bucket.take(bytes);
    if (ok) counts.passed++;
    else counts.dropped++;
    return ok;
  };

  front.on('message', (message: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let client = clients.get(key);
    if (!client) {
      const upstream = createSocket('udp4');
      const made: Client = { upstream, up: new TokenBucket(rate), down: new TokenBucket(rate) };
      client = made;
      clients.set(key, made);
      upstream.on('message', (reply: Buffer) => {
        if (pass(made.down, reply.length)) front.send(reply, from.port, from.address);
      });
      upstream.bind(0, '127.0.0.1');
    }
    if (pass(client.up, message.length)) client.upstream.send(message, options.turnPort, '127.0.0.1');
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  const { port } = front.address();
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    counts,
    setKbps(kbps: number): void {
      rate = (kbps * 1000) / 8;
      for (const client of clients.values()) {
        client.up.setRate(rate);
        client.down.setRate(rate);
      }
    },
    async close(): Promise<void> {
      for (const client of clients.values()) client.upstream.close();
      clients.clear();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
