// Fake microphones for Chromium (`--use-file-for-fake-audio-capture`, which loops the file):
// speech from a shared clip's own sound track when ../shared/data is there, otherwise a synthetic
// talker (voiced bursts at a syllable rate with pauses), and plain silence for the DTX case.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RATE = 48_000;
/** A validation clip with clear speech and few pauses (22.7 s). */
export const SPEECH_CLIP = path.resolve('../shared/data/clips/Rudrabha_Wav2Lip__test.mov');

/** 16-bit mono PCM WAV at 48 kHz. */
function wav(samples: Float32Array): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Speech-like sound: a buzzing "voice" (pitch ~120 Hz with harmonics) in 4 Hz syllables, 2 s talk, 0.7 s pause. */
function syntheticSpeech(seconds: number): Float32Array {
  const out = new Float32Array(seconds * RATE);
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    const talking = t % 2.7 < 2.0;
    if (!talking) continue;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) ** 0.5;
    const pitch = 120 + 20 * Math.sin(2 * Math.PI * 0.7 * t);
    let voice = 0;
    for (let k = 1; k <= 12; k++) voice += Math.sin(2 * Math.PI * pitch * k * t + k) / k;
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const breath = ((seed >> 8) / 0x7fffff - 0.5) * 0.15;
    out[i] = 0.25 * syllable * (voice * 0.5 + breath);
  }
  return out;
}

/** A WAV of speech in `dir` (made once): the shared clip's sound when present, else synthetic. Says which. */
export function speechWav(dir: string): { file: string; source: string } {
  mkdirSync(dir, { recursive: true });
  if (existsSync(SPEECH_CLIP)) {
    const file = path.join(dir, 'speech-clip-48k.wav');
    if (!existsSync(file)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', SPEECH_CLIP, '-vn', '-ac', '1', '-ar', String(RATE), '-t', '22', file]);
    return { file, source: path.basename(SPEECH_CLIP) };
  }
  const file = path.join(dir, 'speech-synthetic-48k.wav');
  if (!existsSync(file)) writeFileSync(file, wav(syntheticSpeech(20)));
  return { file, source: 'synthetic voiced bursts (../shared/data absent)' };
}

/** A silent WAV: what DTX is for. */
export function silenceWav(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'silence-48k.wav');
  if (!existsSync(file)) writeFileSync(file, wav(new Float32Array(5 * RATE)));
  return file;
}
