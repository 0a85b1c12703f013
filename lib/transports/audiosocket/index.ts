/** Asterisk's AudioSocket: the wire format, a call as an AudioLine, the server and the client. */
export * from './protocol';
export {
  AudioSocketError,
  AudioSocketLine,
  checkAudioSocketLineOptions,
  type AudioSocketLineOptions,
} from './audiosocket-line';
export {
  AudioSocketServer,
  connectAudioSocket,
  type AudioSocketListenOptions,
  type AudioSocketRejection,
  type AudioSocketServerOptions,
  type AudioSocketServerStats,
  type ConnectAudioSocketOptions,
} from './server';
