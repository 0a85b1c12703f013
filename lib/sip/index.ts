/**
 * faxline's SIP stack, from the top: the fax endpoint most hosts need, then the user agent, the
 * SDP of a fax call, digest authentication and the wire, for hosts that build on a lower layer.
 */
export {
  CALLEE_BYE_GRACE_MS,
  CALLER_T38_DELAY_MS,
  callFailureResult,
  CLOSE_WAIT_MS,
  DEFAULT_MAX_CALLS,
  DEFAULT_RING_TIMEOUT_MS,
  DEFAULT_T38_ANSWER_TIMEOUT_MS,
  parseListen,
  PRIME_DATAGRAMS,
  SipEndpoint,
  SipIncomingFax,
  UNHANDLED_CALL_MS,
  type SipEndpointEvents,
  type SipEndpointOptions,
  type SipEndpointStats,
  type SipFaxInfo,
  type SipListenAddress,
  type SipReceiveFaxOutcome,
  type SipReceiveFaxRequest,
  type SipSendFaxOutcome,
  type SipSendFaxRequest,
  type T38Policy,
} from './endpoint';
export {
  CallMedia,
  checkPortRange,
  DEFAULT_MEDIA_PORTS,
  MAX_BIND_ATTEMPTS,
  mediaAddress,
  MediaPorts,
  type CallMediaOptions,
  type PortRange,
} from './media';
export {
  SipUserAgent,
  type CallEnd,
  type IncomingCall,
  type InviteOptions,
  type SipCall,
  type UserAgentOptions,
} from './user-agent';
export {
  answerFor,
  audioOffer,
  parseRemote,
  sameSession,
  t38Offer,
  type FaxSdpPolicy,
  type LocalMedia,
  type RemoteMedia,
} from './fax-sdp';
export {
  authorize,
  parseChallenges,
  pickChallenge,
  verifyAuthorization,
  type Credentials,
  type DigestChallenge,
} from './digest';
export { TransactionLayer, type Timers } from './transaction';
export { SipTransport, type SipAddress, type SipTransportKind, type SipTransportOptions } from './transport';
export {
  formatNameAddr,
  formatUri,
  parseMessage,
  parseNameAddr,
  parseUri,
  serializeMessage,
  type NameAddr,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from './message';
export { SipCallError, SipParseError, SipSdpError, SipTimeoutError, SipTransportError } from './errors';
