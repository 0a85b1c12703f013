/**
 * A media server driving send_fax with its own 20 ms audio, as faxline's README shows it.
 * The "far end" here is a receiving FaxSession; in a real host it is the call's RTP stream.
 *
 *   npx ts-node examples/media-server.ts [document-url] [--paced]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FaxSession, PcmMedia, SAMPLES_PER_FRAME, sendFax } from '../lib';

async function main(): Promise<void> {
  const document = process.argv[2]?.startsWith('--') === false ? process.argv[2] : pathToFileURL(path.join(__dirname, 'sample.pdf')).href;
  const paced = process.argv.includes('--paced');

  // The host's side of the call.
  const media = new PcmMedia();
  const farEnd = new FaxSession({ direction: 'receive', receivedFile: path.join(os.tmpdir(), 'faxline-example-rx.tif') });

  const outcome = sendFax(
    { document, identity: '+1 555 0100', header_info: 'faxline example' },
    { project_id: 'p', space_id: 's', call_id: 'c', node_id: os.hostname(), swml_session_id: 'w', caller_id: '+15550100', media },
    {
      // The document is the operator's own (the sample or the command line's). A host running
      // tenants' SWML leaves allowFiles off: a local file belongs to the host.
      allowFiles: true,
      onEvent: (e) => e.type === 'page' && console.log(`page ${e.page} confirmed at ${(e.timeMs / 1000).toFixed(1)} s`),
    },
  );

  // The audio clock: every 20 ms, one frame each way, into buffers made once.
  const heard = new Int16Array(SAMPLES_PER_FRAME);
  const toSend = new Int16Array(SAMPLES_PER_FRAME);
  for (let frame = 0; !(media.ended && farEnd.finished); frame++) {
    // Unpaced, line time runs far ahead of the document's rendering, and the far end would
    // give up waiting for the fax (35 s of line time). A live line would wait in real time;
    // here the line stands still until the fax starts.
    if (!paced && !media.active && !media.ended) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    media.process(heard, toSend); // what the line brought us in, what we put on it out
    farEnd.process(toSend, heard);
    if (paced) await new Promise((resolve) => setTimeout(resolve, 20));
    else if (frame % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
  }

  const { variables, trace } = await outcome;
  console.log(variables);
  console.log(`${trace.frames.length} T.30 frames; the far end got ${farEnd.result?.pages} page(s)`);
  farEnd.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
