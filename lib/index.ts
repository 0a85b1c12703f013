/** faxline's public API. */
export { FaxlineError, InvalidOptionError, SessionClosedError, ImageFileError } from './base/errors';
export { FaxSession, SAMPLE_RATE, SAMPLES_PER_FRAME, T38_ANSWER_TIMEOUT_MS } from './engine/session';
export type { FaxSessionOptions, FaxSessionEvents, T38SwitchOptions, T38Refusal, UdptlStats } from './engine/session';
export type { FaxEvent, NegotiatedEvent, PageEvent, FrameEvent, FinishedEvent } from './engine/events';
export { MODEMS, COMPRESSIONS, checkIdentity, checkHeaderInfo, checkT38Options, T38_DEFAULTS } from './engine/options';
export type {
  Modem,
  Compression,
  T30Options,
  SendOptions,
  ReceiveOptions,
  T38Options,
  T38ErrorCorrection,
  T38RateManagement,
} from './engine/options';
export { ResultCode, completionCodes, resultText } from './base/result-codes';
export type { CompletionCode } from './base/result-codes';
export type { FaxResult, FaxStats, Resolution } from './engine/result';
export { runLoopback } from './transports/loopback';
export type { LoopbackOptions, LoopbackCall } from './transports/loopback';
export { readTiffPages, writeTiffF, pageToPng, rowBytes, checkTiffForSending } from './engine/page';
export type { FaxPage, TiffCompression, TiffSendCheck } from './engine/page';
export { lineAudioToWav } from './engine/wav';
export type { LineAudio } from './engine/wav';
export { connectSessions } from './transports/line-pair';
export type { LinePairOptions } from './transports/line-pair';
export { sendFaxVariables, receiveFaxVariables } from './swml/variables';
export type { SendFaxVariables, ReceiveFaxVariables } from './swml/variables';
export { buildTrace, formatTrace, traceToSvg } from './engine/trace';
export type {
  T30Trace,
  TraceEntry,
  TraceFrame,
  TraceNegotiated,
  TracePage,
  TraceFinished,
  LadderOptions,
} from './engine/trace';
export { sendFax, prepareSendFax, defaultPrepareDocument, CALLBACK_WAIT_MS, DOCUMENT_READY_MS } from './swml/send-fax';
export type {
  SendFaxCall,
  SendFaxOptions,
  SendFaxOutcome,
  SendFaxEvent,
  DocumentProgressEvent,
  DocumentPreparer,
  PreparedFax,
  LogKind,
  SendFaxContext,
  SendFaxJob,
} from './swml/send-fax';
export { receiveFax, defaultReceiveStore, DEFAULT_RECEIVE_DIR, STORE_TIMEOUT_MS } from './swml/receive-fax';
export type {
  ReceiveFaxCall,
  ReceiveFaxOptions,
  ReceiveFaxOutcome,
  ReceivedFax,
  FaxStore,
  ReceiveLogKind,
} from './swml/receive-fax';
export { pagesToPdf } from './engine/fax-pdf';
export { identityFromCallerId } from './swml/params';
export type { SendFaxParams, ReceiveFaxParams } from './swml/params';
export type {
  CallContext,
  CallingCallFaxEvent,
  FaxDirection,
  FaxPageEventBody,
  FaxFinishedEventBody,
} from './swml/events';
export { StatusCallbacks, CALLBACK_DEFAULTS, SIGNATURE_HEADER, signBody, verifySignature } from './callbacks';
export type { CallbackOptions, DeliveryReport } from './callbacks';
export { LoopbackMedia } from './transports/media';
export type { FaxMedia, MediaControl, MediaOutcome, LoopbackMediaOptions, LoopbackMediaSpec } from './transports/media';
export { PcmMedia } from './transports/pcm';
export type { AudioLine, DatagramLine, LineEnd, LineStats } from './transports/line';
export { LineMedia, DEFAULT_READY_TIMEOUT_MS } from './realtime/line-media';
export type { LineMediaOptions } from './realtime/line-media';
export { driveOnLine, SessionGroup, DEFAULT_GROUP_CAPACITY } from './realtime/group';
export type { SessionGroupOptions, GroupStats } from './realtime/group';
export { FaxPool, PooledFax } from './realtime/pool';
export type { FaxPoolOptions } from './realtime/pool';
export type {
  PoolCallOptions,
  PoolLines,
  PoolLoopbackOptions,
  PoolOutcome,
  PoolRtpLine,
  PoolStats,
  PoolUdptlLine,
} from './realtime/pool-protocol';
export { PoolMetrics } from './realtime/metrics';
export { FrameClock, FRAME_MS } from './transports/clock';
export { isDatagramLine } from './transports/line';
export { DEFAULT_CALL_LIMIT_MS } from './engine/call-limit';
export type { DriveOptions, DriveOutcome } from './realtime/group';
export type { CallLines } from './transports/line';
export {
  RtpLine,
  RtpLineError,
  JitterBuffer,
  RtpPacketizer,
  parseRtp,
  audioOfferLines,
  audioOfferPayloadTypes,
  parseRedundancyAnswer,
} from './transports/rtp';
export type {
  RtpLineOptions,
  RtpEndpoint,
  RtpPacket,
  JitterBufferOptions,
  JitterBufferStats,
  AudioOfferOptions,
} from './transports/rtp';
export { AudioSocketServer, AudioSocketLine, AudioSocketError, connectAudioSocket } from './transports/audiosocket';
export type {
  AudioSocketLineOptions,
  AudioSocketServerOptions,
  AudioSocketListenOptions,
  ConnectAudioSocketOptions,
} from './transports/audiosocket';
export {
  UdptlCodec,
  UdptlClosedError,
  UDPTL_DEFAULTS,
  UDPTL_LIMITS,
  DEFAULT_T38_PARAMS,
  t38AttributeLines,
  t38MediaLines,
  parseT38Attributes,
  parseT38Media,
  answerT38,
  negotiatedUdptl,
  UdptlLine,
  UdptlLineError,
  simulatedDatagramPair,
  T38Gateway,
  runGateway,
} from './transports/t38';
export type {
  UdptlOptions,
  UdptlDelivery,
  T38Params,
  T38Version,
  T38Media,
  NegotiatedUdptl,
  UdptlLineOptions,
  UdptlLineStats,
  UdptlEndpoint,
  DatagramPairOptions,
  SimulatedDatagramLine,
  T38GatewayOptions,
  T38GatewayEvents,
  GatewayFrameEvent,
  GatewayStats,
  RunGatewayOptions,
  GatewayOutcome,
} from './transports/t38';
export { G711_LAWS, G711_PAYLOAD_TYPE, g711Encode, g711Decode } from './transports/g711';
export type { G711Law } from './transports/g711';
export { LineImpairment, parseLineSpec, formatLineSpec, defaultLineSpec, lossPattern } from './transports/impairments';
export type { LineSpec, LossModel, PacketImpairment } from './transports/impairments';
export { runSimulatedCall, simulatedLinePair } from './transports/impaired-line';
export type {
  SimulatedCall,
  SimulatedCallOptions,
  SimulatedRtpOptions,
  SimulatedT38Switch,
} from './transports/impaired-line';
export {
  DocumentError,
  fetchDocument,
  prepareDocument,
  preparePdf,
  DEFAULT_MAX_PAGES,
  DEFAULT_PREPARE_TIME_LIMIT_MS,
  RESOLUTIONS,
  defaultRenderConcurrency,
  renderConcurrency,
  setRenderConcurrency,
  closeIdleRenderWorkers,
} from './document';
export type { DocumentFailure, PrepareOptions, PreparedDocument, Conversion, DocumentResolution } from './document';
export { NetError, fetchBytes, postJson, DEFAULT_MAX_BYTES, DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT_MS } from './net';
export type { NetFailure, NetOptions, FetchResult, PostOptions, PostResult } from './net';
export * from './sip';
