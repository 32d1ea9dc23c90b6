// The key that signs resume tickets (server/signalling/rooms.ts), kept in a file so that a server
// restarted under a running call recognises its people's tickets and seats them again under their
// old ids: their P2P connections, which never needed the server, go on untouched.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const KEY_BYTES = 32;

/** Reads the key, or makes it on first start; a key that cannot be kept is random (and said). */
export function loadSessionKey(file: string, log: (line: string) => void): Buffer {
  try {
    const key = readFileSync(file);
    if (key.length >= KEY_BYTES) return key;
    log(`session key ${file} is too short (${key.length} bytes); making a new one`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log(`session key ${file} unreadable (${(error as Error).message}); making a new one`);
  }
  const key = randomBytes(KEY_BYTES);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, key, { mode: 0o600 });
  } catch (error) {
    log(`warning: session key not kept (${(error as Error).message}): after a restart, calls rejoin as new people`);
  }
  return key;
}
