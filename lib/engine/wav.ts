/** Line audio as a WAV file, for listening to or analysing a call. */
import { WaveFile } from 'wavefile';
import { SAMPLE_RATE } from './session';

/** The audio of a call: what each side put on the line. */
export interface LineAudio {
  /** The sender's transmitted audio (what the receiver heard). */
  sent: Int16Array;
  /** The receiver's transmitted audio (what the sender heard). */
  received: Int16Array;
}

/** Encodes both directions as a stereo 16-bit 8 kHz WAV: left = sender, right = receiver. */
export function lineAudioToWav(audio: LineAudio): Buffer {
  const wav = new WaveFile();
  wav.fromScratch(2, SAMPLE_RATE, '16', [audio.sent, audio.received]);
  return Buffer.from(wav.toBuffer());
}
