// `?ice=relay`: every connection goes through the TURN relay the server hands out (relayed ICE
// candidates only), for people behind strict NATs or firewalls and for tests through a relay.
export function iceTransportPolicy(search: string): RTCIceTransportPolicy {
  return new URLSearchParams(search).get('ice') === 'relay' ? 'relay' : 'all';
}

/** This page's policy, read from the address it was opened with. */
export const ICE_TRANSPORT_POLICY = iceTransportPolicy(globalThis.location?.search ?? '');
