/**
 * prepareSendFax: the document is fetched and rendered before any line exists, then sent once
 * with job.send(media) (or discarded); and sendFax's bound on preparing a document for a call
 * that is already up (documentReadyMs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  defaultPrepareDocument,
  InvalidOptionError,
  LoopbackMedia,
  PcmMedia,
  prepareSendFax,
  ResultCode,
  resultText,
  sendFax,
  type DocumentPreparer,
  type FaxMedia,
  type SendFaxEvent,
  type SendFaxOptions,
} from '../../lib';
import { makePdf, usePrivateTmpdir } from '../helpers/pdfs';
import { startStatusServer, type StatusServer } from '../helpers/status-server';

const context = { project_id: 'p', space_id: 's', call_id: 'c', node_id: 'n', swml_session_id: 'w' };
const quiet: SendFaxOptions = { log: () => undefined, allowPrivate: true, allowFiles: true };

// Every document temp folder must be gone after each test (checked by the helper).
const tmpdir = usePrivateTmpdir('faxline-prepare-send-');
let pdfUrl: string;
beforeAll(async () => {
  const file = path.join(tmpdir(), 'two-pages.pdf');
  fs.writeFileSync(file, await makePdf([{ text: { seed: 1 } }, { text: { seed: 2 } }]));
  pdfUrl = pathToFileURL(file).href;
});

/** The default preparer, keeping the path of every TIFF-F file it prepared. */
function recordingPreparer(files: string[]): DocumentPreparer {
  return async (url, options) => {
    const prepared = await defaultPrepareDocument(url, options);
    files.push(prepared.file);
    return prepared;
  };
}

/** A medium that only counts what sendFax asks of it. */
function spyMedia(): FaxMedia & { sends: number; ends: number } {
  const media = {
    kind: 'spy',
    sends: 0,
    ends: 0,
    send: () => {
      media.sends++;
      return Promise.reject(new Error('the line must not be used'));
    },
    receive: () => Promise.reject(new Error('the line must not be used')),
    end: () => {
      media.ends++;
    },
  };
  return media;
}

/** The `fax` bodies of the status events a server received. */
function faxBodies(server: StatusServer): { type: string; params: Record<string, unknown> }[] {
  return server.requests.map(
    (r) => (r.json as { params: { fax: { type: string; params: Record<string, unknown> } } }).params.fax,
  );
}

describe('prepareSendFax, then job.send(media)', () => {
  test('the pages are ready before the line; the fax then succeeds on it', async () => {
    const files: string[] = [];
    const events: SendFaxEvent[] = [];
    const job = await prepareSendFax({ document: pdfUrl, identity: '+1 555 0100' }, context, {
      ...quiet,
      prepareDocument: recordingPreparer(files),
      onEvent: (e) => events.push(e),
    });
    expect(job.failure).toBeNull();
    expect(job.documentPages).toBe(2);
    expect(job.identity).toBe('+1 555 0100');
    expect(job.controlId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Rendered, not sent: only the document's progress so far, ending at page 2 of 2.
    expect(events.every((e) => e.type === 'document')).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'document', page: 2, pages: 2 });
    expect(files).toHaveLength(1);
    expect(fs.existsSync(files[0]!)).toBe(true);

    const media = new LoopbackMedia();
    const outcome = await job.send(media);
    expect(outcome.result).toMatchObject({
      code: ResultCode.OK,
      text: resultText(ResultCode.OK),
      success: true,
      pages: 2,
    });
    expect(outcome.variables).toMatchObject({
      send_fax_result: 'success',
      send_fax_pages: '2',
      send_fax_result_code: String(ResultCode.OK),
      send_fax_identity: '+1 555 0100',
    });
    expect(outcome.documentPages).toBe(2);
    expect(outcome.controlId).toBe(job.controlId);
    expect(media.call!.receivedPages).toHaveLength(2);
    // Sending released the prepared file.
    expect(fs.existsSync(files[0]!)).toBe(false);
  });

  test('a job is sent once: a second send rejects with InvalidOptionError', async () => {
    const job = await prepareSendFax({ document: pdfUrl }, context, quiet);
    expect((await job.send(new LoopbackMedia())).result.code).toBe(ResultCode.OK);
    const again = new LoopbackMedia();
    await expect(job.send(again)).rejects.toThrow(InvalidOptionError);
    expect(again.call).toBeNull();
  });

  test('discard() removes the prepared file, is idempotent, and the job cannot be sent after it', async () => {
    const files: string[] = [];
    const job = await prepareSendFax({ document: pdfUrl }, context, {
      ...quiet,
      prepareDocument: recordingPreparer(files),
    });
    expect(job.documentPages).toBe(2);
    expect(fs.existsSync(files[0]!)).toBe(true);
    await job.discard();
    expect(fs.existsSync(files[0]!)).toBe(false);
    await job.discard();
    await expect(job.send(new LoopbackMedia())).rejects.toThrow(InvalidOptionError);
  });
});

describe('a document that cannot be sent', () => {
  let server: StatusServer;
  beforeEach(async () => (server = await startStatusServer()));
  afterEach(() => server.close());

  test('is the job’s failure before any line; send() posts one finished event and never uses the media', async () => {
    const missing = pathToFileURL(path.join(tmpdir(), 'nope.pdf')).href;
    const job = await prepareSendFax({ document: missing, status_url: server.url }, context, quiet);
    expect(job.documentPages).toBe(0);
    expect(job.failure).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(job.failure!.detail).toMatch(/nope\.pdf/);
    // Nothing is posted while the job waits for its line.
    expect(server.requests).toHaveLength(0);

    const media = spyMedia();
    const outcome = await job.send(media);
    expect(media.sends).toBe(0);
    expect(media.ends).toBe(1);
    expect(outcome.result.code).toBe(ResultCode.FILE_ERROR);
    expect(outcome.variables).toMatchObject({
      send_fax_result: 'failed',
      send_fax_result_code: String(ResultCode.FILE_ERROR),
      send_fax_result_text: resultText(ResultCode.FILE_ERROR),
      send_fax_pages: '0',
    });
    expect(outcome.durationMs).toBe(0);
    expect(outcome.callbacks).toMatchObject({ delivered: 1 });
    expect(faxBodies(server)).toEqual([
      {
        type: 'finished',
        params: expect.objectContaining({
          direction: 'send',
          document: missing,
          pages: 0,
          success: false,
          result: ResultCode.FILE_ERROR,
          result_text: resultText(ResultCode.FILE_ERROR),
        }),
      },
    ]);
    expect((server.requests[0]!.json as { params: { control_id: string } }).params.control_id).toBe(job.controlId);
  });
});

describe('sendFax bounds the preparation on a call that is up (documentReadyMs)', () => {
  let server: StatusServer;
  beforeEach(async () => (server = await startStatusServer()));
  afterEach(() => server.close());

  test('a document not ready in time fails with the file-error code, naming the bound', async () => {
    let sawAbort = false;
    // Never resolves on its own: only the abort (the bound) ends it.
    const stuck: DocumentPreparer = (_url, options) =>
      new Promise((_resolve, reject) => {
        options.signal!.addEventListener(
          'abort',
          () => {
            sawAbort = true;
            reject(new Error('aborted'));
          },
          { once: true },
        );
      });
    const media = new PcmMedia();
    const outcome = await sendFax(
      { document: 'https://example.com/slow.pdf', status_url: server.url },
      { ...context, media },
      { ...quiet, prepareDocument: stuck, documentReadyMs: 300 },
    );
    expect(sawAbort).toBe(true);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(outcome.detail).toMatch(/not ready within 0\.3 s/);
    expect(outcome.variables.send_fax_result_code).toBe(String(ResultCode.FILE_ERROR));
    expect(outcome.durationMs).toBe(0);
    // The terminal never started on the medium, and the medium was released.
    expect(media.active).toBe(false);
    expect(media.ended).toBe(true);
    const bodies = faxBodies(server);
    expect(bodies.filter((b) => b.type === 'finished')).toHaveLength(1);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.params).toMatchObject({ success: false, result: ResultCode.FILE_ERROR });
  });

  test('documentReadyMs must be a positive number', async () => {
    await expect(
      sendFax({ document: pdfUrl }, { media: new PcmMedia() }, { ...quiet, documentReadyMs: 0 }),
    ).rejects.toThrow(InvalidOptionError);
  });
});
