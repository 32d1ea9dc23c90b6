// The SFU requests a browser makes over the signalling socket, what each takes and what it returns,
// and what the server tells the browser unasked: one map that both ends type-check against. The
// server also checks every request's parameters at run time (server/sfu/sfu-requests.ts): the
// types say what an honest browser sends, not what arrives.
import type { DtlsParameters, IceCandidate, IceParameters, MediaKind, RtpCapabilities, RtpParameters, SctpParameters, SctpStreamParameters } from 'mediasoup-client/types';

/** What the browser needs to create its side of a WebRTC transport. */
export interface TransportOptions {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
  sctpParameters?: SctpParameters;
}

export interface SfuRequests {
  /** Starts (or restarts) this browser's SFU session; the router's codecs. */
  'router-capabilities': { params: Record<string, never>; result: { rtpCapabilities: RtpCapabilities } };
  'create-transport': { params: { direction: 'send' | 'recv' }; result: TransportOptions };
  'connect-transport': { params: { transportId: string; dtlsParameters: DtlsParameters }; result: void };
  produce: { params: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters }; result: { id: string } };
  'produce-data': { params: { transportId: string; sctpStreamParameters: SctpStreamParameters; label?: string; protocol?: string }; result: { id: string } };
  'close-producer': { params: { producerId: string }; result: void };
  /** The browser's device and receive transport are ready: the server sends it everything there is. */
  ready: { params: { rtpCapabilities: RtpCapabilities }; result: void };
  'resume-consumer': { params: { consumerId: string }; result: void };
}

export type SfuMethod = keyof SfuRequests;

/** Every method, for the server's run-time check of the name. */
export const SFU_METHODS = [
  'router-capabilities',
  'create-transport',
  'connect-transport',
  'produce',
  'produce-data',
  'close-producer',
  'ready',
  'resume-consumer',
] as const satisfies readonly SfuMethod[];
// Fails to compile when a method of the map is missing from the list.
const listsEveryMethod: Exclude<SfuMethod, (typeof SFU_METHODS)[number]> extends never ? true : never = true;
void listsEveryMethod;

export type SfuNotification =
  | { method: 'new-consumer'; data: { peerId: string; id: string; producerId: string; kind: MediaKind; rtpParameters: RtpParameters } }
  | { method: 'new-data-consumer'; data: { peerId: string; id: string; dataProducerId: string; sctpStreamParameters: SctpStreamParameters; label: string; protocol: string } }
  | { method: 'consumer-closed'; data: { id: string } }
  /** The room's media server went away (worker died): build the SFU session again. */
  | { method: 'restart'; data: { reason: string } };
