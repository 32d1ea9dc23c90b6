#!/usr/bin/env node
// The kiloface command (package.json "bin"): runs cli/kiloface.ts in this process through tsx,
// a dependency, so no build step stands between a checkout and the command.
import { register } from 'tsx/esm/api';

register();
await import('../cli/kiloface.ts');
