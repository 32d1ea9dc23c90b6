import { cpus, totalmem, type as osType, release } from 'node:os';
import { ffmpegVersion } from '../ffmpeg-tools.ts';

export interface EnvironmentInfo {
  os: string;
  cpu: string;
  logicalCores: number;
  memoryGiB: number;
  node: string;
  ffmpeg: string;
}

export async function describeEnvironment(): Promise<EnvironmentInfo> {
  const cpuList = cpus();
  return {
    os: `${osType()} ${release()}`,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    logicalCores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    ffmpeg: (await ffmpegVersion()) ?? 'not found',
  };
}
