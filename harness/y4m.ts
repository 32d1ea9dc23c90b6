import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface SyntheticVideoOptions {
  width: number;
  height: number;
  fps: number;
  frames: number;
}

/**
 * Writes a synthetic talking-head-like video as y4m (4:2:0) for Chromium's fake camera: a face
 * (ellipse, eyes that blink, a mouth that opens) drifting over a textured background, with grain,
 * so that a video encoder has real work to do at every frame. Deterministic: same options, same file.
 */
export async function writeSyntheticFaceY4m(path: string, options: SyntheticVideoOptions): Promise<void> {
  const { width, height, fps, frames } = options;
  const out = createWriteStream(path);
  out.write(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const ySize = width * height;
  const cw = width >> 1;
  const ch = height >> 1;
  let seed = 12345;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed >> 16) & 15;
  };
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const frame = Buffer.alloc(ySize + 2 * cw * ch);
    const cx = width / 2 + Math.sin(t * 1.3) * width * 0.08;
    const cy = height / 2 + Math.sin(t * 0.9) * height * 0.05;
    const rx = width * 0.2;
    const ry = height * 0.32;
    const mouthOpen = 0.3 + 0.7 * Math.abs(Math.sin(t * 6));
    const blink = Math.sin(t * 2.1) > 0.95;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = (x - cx) / rx;
        const dy = (y - cy) / ry;
        let v = 60 + ((x >> 3) + (y >> 3) + Math.floor(t * 4)) % 2 * 25; // moving checker backdrop
        if (dx * dx + dy * dy < 1) {
          v = 170 - dy * 30; // skin, lit from above
          const eye = (ex: number): boolean => {
            const ddx = (x - (cx + ex * rx)) / (rx * 0.18);
            const ddy = (y - (cy - ry * 0.25)) / (ry * (blink ? 0.02 : 0.08));
            return ddx * ddx + ddy * ddy < 1;
          };
          if (eye(-0.4) || eye(0.4)) v = 30;
          const mdx = (x - cx) / (rx * 0.45);
          const mdy = (y - (cy + ry * 0.45)) / (ry * 0.12 * mouthOpen);
          if (mdx * mdx + mdy * mdy < 1) v = 50;
        }
        frame[y * width + x] = Math.max(0, Math.min(255, v + noise()));
      }
    }
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const dx = (2 * x - cx) / rx;
        const dy = (2 * y - cy) / ry;
        const skin = dx * dx + dy * dy < 1;
        frame[ySize + y * cw + x] = skin ? 110 : 128 + Math.round(20 * Math.sin(t + x / 20)); // U
        frame[ySize + cw * ch + y * cw + x] = skin ? 150 : 128; // V
      }
    }
    out.write('FRAME\n');
    if (!out.write(frame)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
