/** faxline's public API. */
export { FaxlineError, InvalidOptionError, SessionClosedError, ImageFileError } from './engine/errors';
export { FaxSession, SAMPLE_RATE, SAMPLES_PER_FRAME } from './engine/session';
export type { FaxSessionOptions, FaxSessionEvents } from './engine/session';
export type { FaxEvent, NegotiatedEvent, PageEvent, FrameEvent, FinishedEvent } from './engine/events';
export { MODEMS, COMPRESSIONS, checkIdentity, checkHeaderInfo } from './engine/options';
export type { Modem, Compression, T30Options, SendOptions, ReceiveOptions } from './engine/options';
export { ResultCode, completionCodes, resultText } from './engine/result';
export type { FaxResult, FaxStats, CompletionCode, Resolution } from './engine/result';
export { runLoopback } from './engine/loopback';
export type { LoopbackOptions, LoopbackCall } from './engine/loopback';
export { readTiffPages, writeTiffF, pageToPng, rowBytes } from './engine/page';
export type { FaxPage, TiffCompression } from './engine/page';
export { lineAudioToWav } from './engine/wav';
export type { LineAudio } from './engine/wav';
export { connectSessions } from './transports/line-pair';
export type { LinePairOptions } from './transports/line-pair';
export { sendFaxVariables } from './swml/variables';
export type { SendFaxVariables } from './swml/variables';
