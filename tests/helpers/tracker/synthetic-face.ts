// A synthetic face for tests, drawn like models/mediapipe/check_parity.py's synthetic_face (skin
// ellipse, eyes with irises, brows, nose, mouth on a colour gradient): MediaPipe's detector and
// face mesh both accept it (detector score ~0.89, face flag logit ~18 at 192x192).
import type { ImageLike } from '../../../codec/tracker/image.ts';

export interface FaceOptions {
  /** Frame size. */
  width: number;
  height: number;
  /** Face centre and size (the drawing's square side), pixels. */
  cx: number;
  cy: number;
  size: number;
  /** In-plane rotation (radians): the eye line points along (cos, sin) in image coordinates. */
  angle?: number;
  /** Pseudo-random camera noise: standard deviation in 8-bit levels (0 = none), and its seed. */
  noise?: number;
  seed?: number;
}

function ellipse(u: number, v: number, cx: number, cy: number, rx: number, ry: number): boolean {
  const dx = (u - cx) / rx;
  const dy = (v - cy) / ry;
  return dx * dx + dy * dy <= 1;
}

/** Gaussian noise from a seeded generator (mulberry32 + Box-Muller): deterministic frames. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Draws the face (its drawing square of side `size` centred at (cx, cy), rotated by `angle`) at
 * any sub-pixel position: each pixel takes the drawing's colour at the pixel centre. The
 * background gradient is fixed to the frame, so only the face moves.
 */
export function drawSyntheticFace(options: FaceOptions): ImageLike {
  const { width, height, cx, cy, size } = options;
  const data = new Uint8Array(width * height * 3);
  const skin = [224, 172, 140];
  const noise = options.noise ?? 0;
  const randn = gaussian(options.seed ?? 1);
  const cos = Math.cos(options.angle ?? 0);
  const sin = Math.sin(options.angle ?? 0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = x / width;
      const gy = y / height;
      let rgb = [40 + 120 * gx, 60 + 80 * gy, 90 + 60 * (1 - gx)];
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (cos * dx + sin * dy) / size + 0.5;
      const v = (-sin * dx + cos * dy) / size + 0.5;
      if (ellipse(u, v, 0.5, 0.52, 0.3, 0.38)) {
        rgb = skin;
        for (const ex of [0.38, 0.62]) {
          if (ellipse(u, v, ex, 0.42, 0.065, 0.03)) rgb = [250, 250, 250];
          if (ellipse(u, v, ex, 0.42, 0.025, 0.025)) rgb = [60, 40, 30];
          if (ellipse(u, v, ex, 0.35, 0.08, 0.012)) rgb = [90, 60, 40];
        }
        if (ellipse(u, v, 0.5, 0.55, 0.03, 0.08)) rgb = skin.map((c) => c * 0.85);
        if (ellipse(u, v, 0.5, 0.7, 0.1, 0.025)) rgb = [170, 70, 70];
        const shade = 0.85 + 0.15 * Math.cos(3 * u + 2 * v); // shading moves with the face
        rgb = rgb.map((c) => c * shade);
      }
      const o = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) {
        const value = rgb[c]! + (noise > 0 ? noise * randn() : 0);
        data[o + c] = value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
      }
    }
  }
  return { data, width, height, channels: 3 };
}

/** A uniform frame (no face). */
export function blankFrame(width: number, height: number, value = 128): ImageLike {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height, channels: 3 };
}
