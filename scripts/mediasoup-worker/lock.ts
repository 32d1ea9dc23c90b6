// A lock file so that two installs on one machine (say two checkouts running
// `npm ci` at once) do not both spend 5-6 minutes of both cores on the same
// build: the second waits, then finds the first one's binary in the cache.
// Correctness does not depend on it (builds happen in private temporary
// directories and the binary is installed with an atomic rename); it saves
// time and CPU.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

interface LockOwner {
  host: string;
  pid: number;
  since: string;
}

const POLL_MS = 2_000;
const REPORT_EVERY_MS = 60_000;
// A lock from another host (a shared home directory) cannot be checked with a
// signal; after this long its owner surely crashed.
const FOREIGN_LOCK_MAX_AGE_MS = 2 * 60 * 60 * 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.host === 'string' && typeof parsed.pid === 'number' && typeof parsed.since === 'string') {
      return { host: parsed.host, pid: parsed.pid, since: parsed.since };
    }
  } catch {
    // Gone, or caught between create and write: treat as held and look again.
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host === hostname()) return !processAlive(owner.pid);
  return Date.now() - Date.parse(owner.since) > FOREIGN_LOCK_MAX_AGE_MS;
}

/** Takes the lock, waiting for another holder to finish. Returns the release function. */
export async function acquireLock(lockPath: string, log: (message: string) => void): Promise<() => void> {
  const me: LockOwner = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
  let lastReport = 0;

  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = readOwner(lockPath);
    if (owner !== undefined && isStale(owner)) {
      log(`Removing a stale build lock left by pid ${owner.pid} on ${owner.host} (since ${owner.since}).`);
      try {
        unlinkSync(lockPath);
      } catch {
        // Another waiter removed it first.
      }
      continue;
    }

    if (Date.now() - lastReport >= REPORT_EVERY_MS) {
      const who = owner === undefined ? 'another process' : `pid ${owner.pid} on ${owner.host} since ${owner.since}`;
      log(`Another mediasoup worker build is running (${who}); waiting for it (${lockPath}).`);
      lastReport = Date.now();
    }
    await sleep(POLL_MS);
  }

  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only remove the lock if it is still ours.
    const owner = readOwner(lockPath);
    if (owner !== undefined && owner.host === me.host && owner.pid === me.pid) {
      try {
        unlinkSync(lockPath);
      } catch {
        // Already gone.
      }
    }
  };
}
