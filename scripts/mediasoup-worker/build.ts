// Builds mediasoup's C++ worker (mediasoup-worker) against Debian's libraries,
// without GitHub: mediasoup's own install downloads a prebuilt binary or the
// meson subprojects from GitHub and other hosts, which our machines cannot
// reach. See README.md in this directory.
//
//   npx tsx scripts/mediasoup-worker/build.ts [--mediasoup-dir DIR] [--jobs N] [--force]
//
// The binary goes to the per-user cache (server/sfu/worker-binary.ts computes
// the path); a cache hit is checked by running the cached binary and takes
// about a second, mostly tsx start-up.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import {
  BUILD_COMMAND,
  DEFAULT_MEDIASOUP_DIR,
  WORKER_BUILD_DIR,
  buildFilesHash,
  kilofaceCacheDir,
  readMediasoupVersion,
  workerBinaryPath,
  workerCacheRoot,
  type WorkerCacheKey,
} from '../../server/sfu/worker-binary.ts';
import { acquireLock } from './lock.ts';
import { installPrebuiltWorker } from './prebuilt.ts';
import { installAtomically, workerProblem } from './worker-file.ts';
import {
  APT_PACKAGES,
  aptInstallCommand,
  findMeson,
  installPipMeson,
  missingAptPackages,
  pipInstallCommand,
  type Meson,
} from './prerequisites.ts';

const SHIMS_DIR = path.join(WORKER_BUILD_DIR, 'subprojects');

// Wraps the worker binary does not use: catch2 is for mediasoup's C++ tests
// (ms_build_tests), wingetopt for Windows.
const UNUSED_WRAPS = new Set(['catch2', 'wingetopt']);

// The same release options mediasoup's worker/tasks.py uses. wrap-mode
// nodownload makes a missing shim fail at once instead of trying the network.
// ms_use_builtin_bwe stays false, mediasoup's default: the worker then uses
// the libwebrtc transport-cc bandwidth estimator that mediasoup's prebuilt
// binaries ship with (it needs abseil, from libabsl-dev). true would drop
// abseil but switch to mediasoup's newer built-in estimator, which none of
// mediasoup's releases use by default.
const MESON_SETUP_OPTIONS = [
  '--buildtype=release',
  '-Db_ndebug=true',
  '--wrap-mode=nodownload',
  '-Dms_use_builtin_bwe=false',
];

class BuildError extends Error {}

function log(message: string): void {
  console.log(`[mediasoup-worker] ${message}`);
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

interface Cli {
  mediasoupDir: string;
  jobs: number | undefined;
  force: boolean;
}

const USAGE = `Usage: npx tsx scripts/mediasoup-worker/build.ts [options]

Puts mediasoup's worker binary into the cache ($KILOFACE_CACHE_DIR, else
$XDG_CACHE_HOME/kiloface, else ~/.cache/kiloface): mediasoup's own prebuilt
binary where it can be downloaded and runs here, else built against Debian's
libraries.

  --mediasoup-dir DIR  the mediasoup package (default: node_modules/mediasoup)
  --jobs N             parallel compile jobs (default: ninja's, cores + 2)
  --force              rebuild even if the cached binary works
  --optional           a build that cannot happen or fails exits 0 with a warning (the
                       postinstall: the server then runs P2P-only and says so)
  --help               this text

Environment: MEDIASOUP_WORKER_BIN set -> nothing to build (the server uses it);
KILOFACE_SKIP_MEDIASOUP_WORKER_BUILD=1 -> skip; KILOFACE_MEDIASOUP_PREBUILT=0 -> no
download, build; MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL -> where releases are;
MESON -> meson to use.`;

function parseCli(argv: string[]): Cli | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      'mediasoup-dir': { type: 'string' },
      jobs: { type: 'string' },
      force: { type: 'boolean', default: false },
      // Read before parsing (see finish below), so that even a bad argument stays a warning.
      optional: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) return undefined;

  let jobs: number | undefined;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new BuildError(`--jobs wants a positive integer, got ${values.jobs}`);
  }
  return {
    mediasoupDir: path.resolve(values['mediasoup-dir'] ?? DEFAULT_MEDIASOUP_DIR),
    jobs,
    force: values.force === true,
  };
}

/** wrap name (file name without .wrap) -> the subproject directory meson looks for. */
function wrapDirectories(subprojectsDir: string): Map<string, string> {
  const directories = new Map<string, string>();
  for (const file of readdirSync(subprojectsDir)) {
    if (!file.endsWith('.wrap')) continue;
    const match = /^directory\s*=\s*(\S+)\s*$/m.exec(readFileSync(path.join(subprojectsDir, file), 'utf8'));
    if (match?.[1] !== undefined) directories.set(file.slice(0, -'.wrap'.length), match[1]);
  }
  return directories;
}

/** The shim directory names this mediasoup needs; fails clearly when one is missing (a mediasoup upgrade). */
function shimsFor(workerDir: string, mediasoupVersion: string): string[] {
  const needed: string[] = [];
  const missing: string[] = [];
  for (const [wrap, directory] of wrapDirectories(path.join(workerDir, 'subprojects'))) {
    if (UNUSED_WRAPS.has(wrap)) continue;
    needed.push(directory);
    if (!existsSync(path.join(SHIMS_DIR, directory, 'meson.build'))) missing.push(`${directory} (${wrap}.wrap)`);
  }
  if (missing.length > 0) {
    throw new BuildError(
      `mediasoup ${mediasoupVersion} expects subproject directories that scripts/mediasoup-worker/subprojects ` +
        `has no shim for: ${missing.join(', ')}. The shims are named after the "directory =" line of ` +
        `each wrap in mediasoup's worker/subprojects; rename or add them for this mediasoup version.`,
    );
  }
  return needed;
}

/**
 * Changes to mediasoup's own worker sources, applied to the build copy (never
 * to node_modules). Each `before` must occur exactly once in `file`, so a
 * mediasoup upgrade that changes the code stops the build with a message
 * instead of silently building without the fix.
 */
interface SourcePatch {
  file: string;
  before: string;
  after: string;
  why: string;
}

const SOURCE_PATCHES: SourcePatch[] = [
  // Debian's OpenSSL is built with kernel TLS support (OPENSSL_NO_KTLS unset);
  // the OpenSSL that mediasoup's wrap builds is not (KTLS is off by default in
  // OpenSSL's Configure, so there BIO_get_ktls_send() is the constant 0).
  // libssl 3.0 asks the write BIO whether it does kernel TLS
  // (BIO_ctrl(wbio, BIO_CTRL_GET_KTLS_SEND)) when it sets up its write buffer,
  // and if so allocates no buffer: the kernel is supposed to do the record
  // layer. mediasoup installs onSslBioOut() as callback_ex on that BIO, and
  // the callback returns 1 for every call but a bare BIO_CB_RETURN, so it
  // answers 1 ("yes, kernel TLS") to that BIO_ctrl (BIO_CB_CTRL|BIO_CB_RETURN)
  // on behalf of the memory BIO, which said 0. libssl then writes the first
  // DTLS record header through a NULL buffer: SIGSEGV in libssl under
  // SSL_do_handshake()/SSL_read() as soon as a DTLS handshake starts (either
  // role). Pass the BIO's own answer through for the two kernel TLS queries;
  // everything else keeps mediasoup's behaviour.
  {
    file: 'src/RTC/DtlsTransport.cpp',
    before: '  int /*argi*/,\n  long /*argl*/,\n  int ret,\n  size_t* /*processed*/)\n{\n\tMS_TRACE();\n\n\tconst long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;\n',
    after:
      '  int argi,\n  long /*argl*/,\n  int ret,\n  size_t* /*processed*/)\n{\n\tMS_TRACE();\n\n' +
      '\t// kiloface (scripts/mediasoup-worker/build.ts): report the memory BIO\'s own\n' +
      '\t// answer (0) to libssl\'s kernel TLS queries; Debian\'s OpenSSL has KTLS\n' +
      '\t// compiled in and would otherwise set up no write buffer.\n' +
      '\tif (\n\t  operationType == (BIO_CB_CTRL | BIO_CB_RETURN) &&\n' +
      '\t  (argi == BIO_CTRL_GET_KTLS_SEND || argi == BIO_CTRL_GET_KTLS_RECV))\n\t{\n' +
      '\t\treturn static_cast<long>(ret);\n\t}\n\n' +
      '\tconst long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;\n',
    why: 'kernel TLS query answered by the DTLS write BIO callback (Debian OpenSSL has KTLS enabled)',
  },
];

function applySourcePatches(sourceDir: string, mediasoupVersion: string): void {
  for (const patch of SOURCE_PATCHES) {
    const file = path.join(sourceDir, patch.file);
    const text = readFileSync(file, 'utf8');
    const count = text.split(patch.before).length - 1;
    if (count !== 1) {
      throw new BuildError(
        `Cannot apply the patch to worker/${patch.file} of mediasoup ${mediasoupVersion} (${patch.why}): ` +
          `the code it replaces occurs ${count} times instead of once. Check whether this mediasoup ` +
          `version still needs it and update SOURCE_PATCHES in scripts/mediasoup-worker/build.ts.`,
      );
    }
    writeFileSync(file, text.replace(patch.before, () => patch.after));
  }
}

/** Copies mediasoup's worker sources, minus build outputs and downloaded subprojects, and adds our shims. */
function prepareSources(mediasoupDir: string, sourceDir: string, shims: string[]): void {
  const workerDir = path.join(mediasoupDir, 'worker');
  cpSync(workerDir, sourceDir, {
    recursive: true,
    filter: (source) => {
      const parts = path.relative(workerDir, source).split(path.sep);
      if (parts.length === 1 && (parts[0] === 'out' || parts[0] === 'prebuild')) return false;
      // Keep the .wrap files and packagefiles; drop anything a failed mediasoup
      // postinstall may have downloaded or half-extracted.
      if (parts.length === 2 && parts[0] === 'subprojects') {
        return parts[1] === 'packagefiles' || (parts[1]?.endsWith('.wrap') ?? false);
      }
      return true;
    },
  });
  for (const shim of shims) {
    cpSync(path.join(SHIMS_DIR, shim), path.join(sourceDir, 'subprojects', shim), { recursive: true });
  }
}

let runningChild: ChildProcess | undefined;

/** Runs a command; its output goes to our stdout/stderr, or to logFile when given. */
async function run(
  argv: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile?: string },
): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined) throw new BuildError('empty command');
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, 'w');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: logFd === undefined ? 'inherit' : ['ignore', logFd, logFd],
    });
    runningChild = child;
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
      },
    );
    if (code !== 0) {
      const how = signal !== null ? `was killed by ${signal}` : `exited with ${String(code)}`;
      let tail = '';
      if (options.logFile !== undefined) {
        tail = `\n--- last lines of ${options.logFile} ---\n${readFileSync(options.logFile, 'utf8').split('\n').slice(-40).join('\n')}`;
      }
      throw new BuildError(`\`${argv.join(' ')}\` ${how}.${tail}`);
    }
  } finally {
    runningChild = undefined;
    if (logFd !== undefined) closeSync(logFd);
  }
}

function withPythonPath(meson: Meson): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...meson.env };
  const inherited = process.env.PYTHONPATH;
  if (meson.env.PYTHONPATH !== undefined && inherited !== undefined && inherited !== '') {
    env.PYTHONPATH = `${meson.env.PYTHONPATH}${path.delimiter}${inherited}`;
  }
  return env;
}

async function build(options: {
  cli: Cli;
  key: WorkerCacheKey;
  cacheRoot: string;
  destination: string;
  meson: Meson;
}): Promise<void> {
  const { cli, key, cacheRoot, destination, meson } = options;
  const shims = shimsFor(path.join(cli.mediasoupDir, 'worker'), key.mediasoupVersion);

  // We hold the lock, so any earlier temporary tree is left over from a failed
  // or interrupted build.
  for (const entry of readdirSync(cacheRoot)) {
    if (entry.startsWith('tmp-build-')) rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
  }
  const workDir = mkdtempSync(path.join(cacheRoot, 'tmp-build-'));
  const sourceDir = path.join(workDir, 'worker');
  const buildDir = path.join(workDir, 'build');
  const env = withPythonPath(meson);
  const started = Date.now();

  log(
    `Building mediasoup-worker ${key.mediasoupVersion} from source against Debian's libraries. ` +
      `This takes about 5-6 minutes on 2 cores (longer on a busy machine), once per machine, ` +
      `mediasoup version and change of the build files.`,
  );
  log(`Meson ${meson.version} (${meson.origin}); build tree ${workDir}`);

  const built = path.join(buildDir, 'mediasoup-worker');
  try {
    prepareSources(cli.mediasoupDir, sourceDir, shims);
    applySourcePatches(sourceDir, key.mediasoupVersion);

    log('meson setup ...');
    await run([...meson.argv, 'setup', ...MESON_SETUP_OPTIONS, buildDir, sourceDir], {
      cwd: workDir,
      env,
      logFile: path.join(workDir, 'meson-setup.log'),
    });

    log('Compiling (ninja progress follows) ...');
    const jobs = cli.jobs === undefined ? [] : ['-j', String(cli.jobs)];
    await run(['ninja', '-C', buildDir, ...jobs, 'mediasoup-worker'], { cwd: workDir, env });

    const problem = workerProblem(built);
    if (problem !== undefined) throw new BuildError(`The freshly built ${built} does not work: ${problem}.`);
  } catch (error) {
    // Keep the tree for inspection; the next build removes it.
    log(`Build tree kept for inspection (the next build removes it): ${workDir}`);
    throw error;
  }

  installAtomically(built, destination);
  rmSync(workDir, { recursive: true, force: true });
  log(`Built in ${formatDuration(Date.now() - started)}: ${destination}`);
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (cli === undefined) {
    console.log(USAGE);
    return 0;
  }

  const skip = process.env.KILOFACE_SKIP_MEDIASOUP_WORKER_BUILD;
  if (skip !== undefined && skip !== '' && skip !== '0') {
    log('KILOFACE_SKIP_MEDIASOUP_WORKER_BUILD is set; not building the worker.');
    return 0;
  }
  const workerBin = process.env.MEDIASOUP_WORKER_BIN;
  if (workerBin !== undefined && workerBin !== '' && !cli.force) {
    log(`MEDIASOUP_WORKER_BIN is set (${workerBin}); the server uses that binary, nothing to build.`);
    return 0;
  }

  const key: WorkerCacheKey = {
    mediasoupVersion: readMediasoupVersion(cli.mediasoupDir),
    arch: process.arch,
    buildHash: buildFilesHash(),
  };
  const cacheDir = kilofaceCacheDir();
  const destination = workerBinaryPath(cacheDir, key);

  let problem = cli.force ? 'rebuild forced' : workerProblem(destination);
  if (problem === undefined) {
    log(`Cached worker for mediasoup ${key.mediasoupVersion} is ready: ${destination}`);
    return 0;
  }
  log(`Worker binary ${destination}: ${problem}.`);

  // mediasoup's prebuilt binary first, unless refused or a rebuild is asked for.
  if (!cli.force && process.env.KILOFACE_MEDIASOUP_PREBUILT !== '0' && (await installPrebuiltWorker({ mediasoupVersion: key.mediasoupVersion, destination, log }))) return 0;

  const missing = missingAptPackages();
  if (missing.length > 0) {
    console.error(
      `[mediasoup-worker] Missing build dependencies: ${missing.join(', ')}. Install them with:\n\n` +
        `    ${aptInstallCommand(missing)}\n\n` +
        `(all of them: ${APT_PACKAGES.join(' ')}), then run \`${BUILD_COMMAND}\`.`,
    );
    return 1;
  }

  const cacheRoot = workerCacheRoot(cacheDir);
  mkdirSync(cacheRoot, { recursive: true });
  const release = await acquireLock(path.join(cacheRoot, 'build.lock'), log);
  process.once('exit', release);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runningChild?.kill(signal);
      release();
      log(`Interrupted by ${signal}; no binary installed.`);
      process.exit(1);
    });
  }

  try {
    // Another install may have built it while we waited for the lock.
    problem = cli.force ? problem : workerProblem(destination);
    if (problem === undefined) {
      log(`Another install built it meanwhile; cached worker is ready: ${destination}`);
      return 0;
    }

    const toolsDir = path.join(cacheRoot, 'tools', 'meson');
    const meson = findMeson(toolsDir) ?? installPipMeson(toolsDir, log);
    if (meson === undefined) {
      console.error(
        `[mediasoup-worker] Meson >= 1.1 is needed (Debian bookworm's is 1.0.1) and pip could not install it. ` +
          `Install it with:\n\n    ${pipInstallCommand(toolsDir)}\n\n` +
          `or put meson >= 1.1 on PATH (or set MESON), then run \`${BUILD_COMMAND}\`.`,
      );
      return 1;
    }

    await build({ cli, key, cacheRoot, destination, meson });
    return 0;
  } finally {
    release();
  }
}

const OPTIONAL = process.argv.includes('--optional');
/** Under --optional a failure is a warning: what still works, and the one command that adds the SFU. */
const finish = (code: number): void => {
  if (code !== 0 && OPTIONAL) {
    console.warn(
      `[mediasoup-worker] The SFU's worker is not built, so the install goes on without it: two-person ` +
        `calls (P2P) work, and the server starts P2P-only and says so. To add the SFU (three or more ` +
        `people), fix what is said above and run \`${BUILD_COMMAND}\`.`,
    );
    code = 0;
  }
  process.exitCode = code;
};

main().then(finish, (error: unknown) => {
  // Every failure we expect (missing package, bad argument, failed command)
  // is explained by its message; a stack trace would only bury it.
  const message = error instanceof Error ? error.message : String(error);
  const usage = (error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS') ? `\n\n${USAGE}` : '';
  console.error(`[mediasoup-worker] Build failed: ${message}${usage}`);
  finish(1);
});
