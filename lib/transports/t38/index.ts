/** T.38 media: the UDPTL codec, SDP parameters, the UDPTL line, the simulated datagram path, the gateway. */
export * from './udptl';
export * from './sdp';
export * from './udptl-line';
export * from './datagram-pair';
export * from './gateway';
