/** RTP/G.711 media: wire formats (RTP, RFC 2198 RED), serial arithmetic, the jitter buffer, SDP lines, the line. */
export * from './serial';
export * from './packet';
export * from './red';
export * from './jitter-buffer';
export * from './sdp';
export * from './rtp-line';
