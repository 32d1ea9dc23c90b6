import WebSocket from 'ws';
import type { ServerMessage } from '../../../../protocol/signalling.ts';

/** A raw signalling client (Node, ws) that records every reply: what a hostile or test client sees. */
export class SignallingTestClient {
  readonly socket: WebSocket;
  readonly messages: ServerMessage[] = [];
  closedWith: number | undefined;
  private waiters: (() => void)[] = [];

  constructor(wsUrl: string, options: WebSocket.ClientOptions = {}) {
    this.socket = new WebSocket(wsUrl, options);
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('close', (code) => {
      this.closedWith = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async open(): Promise<this> {
    if (this.socket.readyState !== WebSocket.OPEN) await new Promise((resolve) => this.socket.once('open', resolve));
    return this;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async next<T extends ServerMessage['type']>(type: T, timeoutMs = 2000): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<ServerMessage, { type: T }>;
      if (Date.now() > deadline || this.closedWith !== undefined) throw new Error(`no ${type} (got ${JSON.stringify(this.messages)})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async join(room: string, name: string, extra: object = {}): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    await this.open();
    this.send({ type: 'join', room, name, ...extra });
    return this.next('welcome');
  }
}

