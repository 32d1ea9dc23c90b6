/**
 * When to try again after a connection drops: one policy for the call's three kinds of connection
 * (the signalling socket, each P2P peer, the SFU session). Quick after a blip, gentle on something
 * that stays down: 0.5 s, 1 s, 2 s, 4 s, then every 8 s, each stretched by up to a quarter at
 * random so that a room's browsers do not all come back in the same instant after a server restart.
 * `reset` once a try succeeds.
 */
export class ReconnectPolicy {
  private attempt = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly maxMs = 8000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next try (and counts it). */
  nextDelayMs(): number {
    const base = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(base * (1 + 0.25 * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
