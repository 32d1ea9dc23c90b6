import { describe, expect, it } from 'vitest';
import { cameraLabel, classifyMediaError, describeMediaProblems } from '../../../web/call/local-media.ts';

const domError = (name: string, message = ''): { name: string; message: string } => ({ name, message });

describe('blocked or missing camera and microphone (issue 15 item 1)', () => {
  it("classifies getUserMedia's errors by what the user can do about them", () => {
    expect(classifyMediaError(domError('NotAllowedError', 'Permission denied')).kind).toBe('blocked');
    expect(classifyMediaError(domError('SecurityError')).kind).toBe('blocked');
    expect(classifyMediaError(domError('NotFoundError', 'Requested device not found')).kind).toBe('missing');
    expect(classifyMediaError(domError('NotReadableError', 'Could not start video source')).kind).toBe('busy');
    expect(classifyMediaError(new TypeError('x')).kind).toBe('failed');
    expect(classifyMediaError(domError('NotAllowedError', 'Permission denied')).detail).toBe('NotAllowedError: Permission denied');
  });

  it('the self tile says "camera blocked" or "no camera", never a picture-like card', () => {
    expect(cameraLabel({ kind: 'blocked', detail: '' })).toBe('camera blocked');
    expect(cameraLabel({ kind: 'missing', detail: '' })).toBe('no camera');
    expect(cameraLabel({ kind: 'busy', detail: '' })).toBe('camera in use by another app');
  });

  it('the notice names which device, what the call does without it, and how to allow it', () => {
    expect(describeMediaProblems({})).toBeUndefined();
    const camera = describeMediaProblems({ camera: { kind: 'blocked', detail: '' } })!;
    expect(camera.title).toBe('Your camera is blocked.');
    expect(camera.consequence).toMatch(/audio only/);
    expect(camera.help.join(' ')).toMatch(/site's settings.*camera to "Allow".*reload/);

    const microphone = describeMediaProblems({ microphone: { kind: 'blocked', detail: '' } })!;
    expect(microphone.title).toBe('Your microphone is blocked.');
    expect(microphone.consequence).toMatch(/cannot hear you/);
    expect(microphone.help.join(' ')).toMatch(/microphone to "Allow"/);

    const both = describeMediaProblems({ camera: { kind: 'blocked', detail: '' }, microphone: { kind: 'blocked', detail: '' } })!;
    expect(both.title).toBe('Your camera and microphone are blocked.');
    expect(both.consequence).toMatch(/listen-only/);
    expect(both.help.join(' ')).toMatch(/camera and microphone to "Allow"/);

    const mixed = describeMediaProblems({ camera: { kind: 'missing', detail: '' }, microphone: { kind: 'blocked', detail: '' } })!;
    expect(mixed.title).toBe('No camera was found and your microphone is blocked.');
    expect(describeMediaProblems({ camera: { kind: 'missing', detail: '' }, microphone: { kind: 'missing', detail: '' } })!.title).toBe('No camera or microphone was found.');
    expect(mixed.help.join(' ')).toMatch(/set microphone to "Allow"/);
    expect(mixed.help.join(' ')).toMatch(/Plug in a device/);
  });
});
