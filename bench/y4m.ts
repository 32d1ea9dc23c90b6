// YUV4MPEG2 reading: the prepared inputs are .y4m, and decoded outputs arrive as raw
// yuv420p of the same size.

export interface Yuv420Video {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  /** Each entry is one whole yuv420p frame (Y then U then V), a view into one buffer. */
  frames: Uint8Array[];
}

export const yuv420FrameBytes = (width: number, height: number): number =>
  width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);

export function parseY4m(buf: Uint8Array): Yuv420Video {
  const headerEnd = buf.indexOf(0x0a);
  if (headerEnd < 0) throw new Error('y4m: no header line');
  const header = new TextDecoder().decode(buf.subarray(0, headerEnd));
  const tokens = header.split(' ');
  if (tokens[0] !== 'YUV4MPEG2') throw new Error('y4m: bad signature');
  let width = 0;
  let height = 0;
  let fpsNum = 25;
  let fpsDen = 1;
  for (const t of tokens.slice(1)) {
    if (t[0] === 'W') width = Number(t.slice(1));
    else if (t[0] === 'H') height = Number(t.slice(1));
    else if (t[0] === 'F') [fpsNum, fpsDen] = t.slice(1).split(':').map(Number) as [number, number];
    else if (t[0] === 'C' && !t.startsWith('C420')) throw new Error(`y4m: only 4:2:0 is supported, got ${t}`);
  }
  if (!(width > 0 && height > 0)) throw new Error('y4m: missing size');
  const frameBytes = yuv420FrameBytes(width, height);
  const frames: Uint8Array[] = [];
  let pos = headerEnd + 1;
  while (pos < buf.length) {
    const lineEnd = buf.indexOf(0x0a, pos);
    if (lineEnd < 0 || buf[pos] !== 0x46 /* F */) throw new Error(`y4m: bad FRAME marker at byte ${pos}`);
    const start = lineEnd + 1;
    if (start + frameBytes > buf.length) throw new Error('y4m: truncated frame');
    frames.push(buf.subarray(start, start + frameBytes));
    pos = start + frameBytes;
  }
  return { width, height, fpsNum, fpsDen, frames };
}

/** Split concatenated raw yuv420p frames (what `ffmpeg -f rawvideo -pix_fmt yuv420p` writes). */
export function splitRawYuv420(buf: Uint8Array, width: number, height: number): Uint8Array[] {
  const frameBytes = yuv420FrameBytes(width, height);
  if (buf.length % frameBytes !== 0) throw new Error(`raw yuv: ${buf.length} bytes is not a whole number of frames`);
  const frames: Uint8Array[] = [];
  for (let pos = 0; pos < buf.length; pos += frameBytes) frames.push(buf.subarray(pos, pos + frameBytes));
  return frames;
}
