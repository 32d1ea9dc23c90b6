// simple-peer and its dependencies were written for Node and browserify: they expect `process` and
// `Buffer` as globals. This module is imported first, before simple-peer is evaluated.
import { Buffer } from 'buffer';
import process from 'process';

const g = globalThis as unknown as { Buffer?: typeof Buffer; process?: typeof process };
g.Buffer ??= Buffer;
g.process ??= process;
