// MediaPipe's own Face Mesh runtime (npm @mediapipe/face_mesh: its WASM graph, TFLite and WebGL)
// in headless Chromium, fed raw RGB frames from Node, all served from a local folder: the
// reference the ONNX tracker is compared against (tests/e2e/mediapipe-parity.test.ts).
// The package is not a project dependency: pass the folder of an unpacked
// `npm pack @mediapipe/face_mesh@0.4.1657299874` (see findFaceMeshPackage).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { CHROMIUM_PATH } from '../../../harness/browser.ts';

export const FACE_MESH_VERSION = '0.4.1657299874';

/**
 * The unpacked package folder: $MEDIAPIPE_FACE_MESH_DIR, else /tmp/mp/package (where
 * models/mediapipe/rebuild.sh's instructions put it), else `npm pack` into a temporary folder
 * (needs the npm registry). Null when none works.
 */
export function findFaceMeshPackage(): string | null {
  const ok = (dir: string) => existsSync(path.join(dir, 'face_mesh.js')) && existsSync(path.join(dir, 'face_mesh_solution_packed_assets.data'));
  for (const dir of [process.env.MEDIAPIPE_FACE_MESH_DIR, '/tmp/mp/package'].filter((d): d is string => !!d)) if (ok(dir)) return dir;
  const work = mkdtempSync(path.join(tmpdir(), 'kiloface-face-mesh-'));
  const pack = spawnSync('npm', ['pack', `@mediapipe/face_mesh@${FACE_MESH_VERSION}`, '--silent'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  if (pack.status !== 0) return null;
  const tgz = path.join(work, pack.stdout.trim().split('\n').pop() ?? '');
  if (spawnSync('tar', ['xzf', tgz, '-C', work]).status !== 0) return null;
  const dir = path.join(work, 'package');
  return ok(dir) ? dir : null;
}

// The page's own script: plain JavaScript (page.evaluate of TypeScript closures would carry the
// test transpiler's helpers into the page).
const PAGE = `<!doctype html><meta charset="utf-8"><title>face mesh</title><canvas id="c"></canvas>
<script src="/mp/face_mesh.js"></script>
<script>
let faceMesh = null;
let last = null;
window.kfStart = async function () {
  faceMesh = new FaceMesh({ locateFile: function (file) { return '/mp/' + file; } });
  // minDetectionConfidence / minTrackingConfidence are left at the graph's defaults (0.5 both):
  // setting either makes this runtime abort in headless Chromium 156 (RET_CHECK
  // options_.has_num_classes() in TensorsToDetectionsCalculator: the override replaces the
  // calculator's options instead of merging into them).
  faceMesh.setOptions({ maxNumFaces: 1, refineLandmarks: false, selfieMode: false });
  faceMesh.onResults(function (r) {
    const lm = r.multiFaceLandmarks && r.multiFaceLandmarks[0];
    last = lm ? lm.flatMap(function (p) { return [p.x, p.y, p.z]; }) : [];
  });
  await faceMesh.initialize();
};
window.kfReset = function () { faceMesh.reset(); };
window.kfSend = async function (b64, width, height) {
  const bytes = Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
  const canvas = document.getElementById('c');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    img.data[4 * i] = bytes[j];
    img.data[4 * i + 1] = bytes[j + 1];
    img.data[4 * i + 2] = bytes[j + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  last = null;
  await faceMesh.send({ image: canvas });
  return last;
};
window.kfRenderer = function () {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'no webgl2';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
};
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.data': 'application/octet-stream', '.binarypb': 'application/octet-stream' };

export interface FaceMeshFrameResult {
  /**
   * 468 x (x, y, z) in the tracker's pixel convention (pixel i's centre at coordinate i):
   * x = x_norm * W - 0.5, y = y_norm * H - 0.5 (MediaPipe's normalised coordinates put pixel i's
   * centre at (i + 0.5) / W), z = z_norm * W. null: no face.
   */
  landmarks: Float32Array | null;
}

export class MediaPipeFaceMesh {
  /** Every URL the page asked for (to prove nothing went to a CDN). */
  readonly requests: string[] = [];
  readonly consoleLines: string[] = [];
  private constructor(
    private readonly server: Server,
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async start(packageDir: string): Promise<MediaPipeFaceMesh> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
        return;
      }
      const name = url.pathname.startsWith('/mp/') ? path.basename(url.pathname) : '';
      const file = path.join(packageDir, name);
      if (!name || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
    });
    const page = await browser.newPage();
    const mesh = new MediaPipeFaceMesh(server, browser, page);
    page.on('request', (r) => mesh.requests.push(r.url()));
    page.on('response', (r) => {
      if (r.status() >= 400) mesh.consoleLines.push(`http ${r.status()}: ${r.url()}`);
    });
    page.on('console', (m) => mesh.consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => mesh.consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.evaluate('window.kfStart()');
    return mesh;
  }

  /** Resets tracking (the next frame runs the detector), as a new video would. */
  async reset(): Promise<void> {
    await this.page.evaluate('window.kfReset()');
  }

  /** One RGB frame through MediaPipe's graph (tracking state carries over between calls). */
  async send(rgb: Uint8Array, width: number, height: number): Promise<FaceMeshFrameResult> {
    const b64 = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length).toString('base64');
    const flat = (await this.page.evaluate(`window.kfSend(${JSON.stringify(b64)}, ${width}, ${height})`)) as number[] | null;
    if (!flat || flat.length === 0) return { landmarks: null };
    const out = new Float32Array(flat.length);
    for (let i = 0; i < flat.length; i += 3) {
      out[i] = flat[i]! * width - 0.5;
      out[i + 1] = flat[i + 1]! * height - 0.5;
      out[i + 2] = flat[i + 2]! * width;
    }
    return { landmarks: out };
  }

  /** The WebGL renderer the page got (SwiftShader when headless without a GPU). */
  async renderer(): Promise<string> {
    return (await this.page.evaluate('window.kfRenderer()')) as string;
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
