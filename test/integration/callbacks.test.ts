import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  ResultCode,
  sendFax,
  StatusCallbacks,
  verifySignature,
  SIGNATURE_HEADER,
  type SendFaxOptions,
  type SendFaxOutcome,
} from '../../lib';
import { makeTestTls, refusedUrl, startStatusServer, type StatusServer } from '../helpers/status-server';
import { tempDir, writeTextDocument } from '../helpers/pages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const context = {
  project_id: 'p-7c1d',
  space_id: 's-20e4',
  call_id: 'c-90ab',
  node_id: 'n-11f3',
  swml_session_id: 'sess-4411',
};

let tmp: ReturnType<typeof tempDir>;
let twoPages: string;
beforeAll(() => {
  tmp = tempDir();
  twoPages = pathToFileURL(writeTextDocument(tmp.dir, 2, { firstSeed: 31 }).file).href;
});
afterAll(() => tmp.cleanup());

let server: StatusServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const quiet = { log: () => undefined };

function send(statusUrl: string, options: SendFaxOptions = {}, document = twoPages): Promise<SendFaxOutcome> {
  return sendFax(
    { document, identity: '+1 555 0100', status_url: statusUrl },
    { ...context, media: { kind: 'loopback', receiver: { identity: '+44 20 7946 0000' } } },
    { allowPrivate: true, allowFiles: true, ...quiet, ...options, callbacks: { backoffMs: 20, ...options.callbacks } },
  );
}

describe('the status events of a successful fax', () => {
  test('are one page event per page in order, then one finished event, every field as SPEC.md shows it', async () => {
    server = await startStatusServer();
    const before = Date.now() / 1000;
    const outcome = await send(server.url);
    const after = Date.now() / 1000;
    expect(outcome.result.success).toBe(true);
    expect(server.requests).toHaveLength(3);
    expect(outcome.callbacks).toEqual({ events: 3, delivered: 3, failed: 0, dropped: 0, requests: 3 });

    for (const r of server.requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers[SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
      // A float with a fraction in the JSON text itself, not only after parsing.
      expect(r.raw.toString()).toMatch(/"timestamp":\d{10}\.\d+,/);
      const e = r.json;
      expect(Object.keys(e).sort()).toEqual([
        'event_channel',
        'event_type',
        'params',
        'project_id',
        'space_id',
        'timestamp',
      ]);
      expect(e.event_type).toBe('calling.call.fax');
      expect(e.event_channel).toBe('swml:sess-4411');
      expect(typeof e.timestamp).toBe('number');
      expect(Number.isInteger(e.timestamp)).toBe(false);
      expect(e.timestamp).toBeGreaterThanOrEqual(before - 0.001);
      expect(e.timestamp).toBeLessThanOrEqual(after + 0.001);
      expect(e.project_id).toBe('p-7c1d');
      expect(e.space_id).toBe('s-20e4');
      expect(Object.keys(e.params).sort()).toEqual(['call_id', 'control_id', 'fax', 'node_id']);
      expect(e.params.call_id).toBe('c-90ab');
      expect(e.params.node_id).toBe('n-11f3');
      expect(e.params.control_id).toMatch(UUID);
      expect(e.params.control_id).toBe(outcome.controlId);
    }
    const [p1, p2, fin] = server.requests.map((r) => r.json.params.fax);
    expect(p1).toEqual({ type: 'page', params: { direction: 'send', number: 1 } });
    expect(p2).toEqual({ type: 'page', params: { direction: 'send', number: 2 } });
    expect(fin).toEqual({
      type: 'finished',
      params: {
        direction: 'send',
        identity: '+1 555 0100',
        remote_identity: '+44 20 7946 0000',
        document: twoPages,
        pages: 2,
        success: true,
        result: ResultCode.OK,
        result_text: 'OK',
        format: 'pdf',
      },
    });
    const stamps = server.requests.map((r) => r.json.timestamp);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  test('carry a fresh control_id for each fax operation', async () => {
    server = await startStatusServer();
    const a = await send(server.url);
    const b = await send(server.url);
    expect(a.controlId).not.toBe(b.controlId);
    const ids = new Set(server.requests.map((r) => r.json.params.control_id));
    expect(ids).toEqual(new Set([a.controlId, b.controlId]));
  });

  test('arrive in order even when the receiver is slow to answer the first', async () => {
    server = await startStatusServer((n) => (n === 1 ? { delayMs: 150 } : {}));
    await send(server.url);
    expect(server.requests.map((r) => r.json.params.fax.type)).toEqual(['page', 'page', 'finished']);
    expect(server.requests.map((r) => r.json.params.fax.params.number ?? 'end')).toEqual([1, 2, 'end']);
  });
});

describe('the status events of a failed fax', () => {
  test('a document that cannot be fetched gives only a finished event: success false, result FILE_ERROR', async () => {
    server = await startStatusServer();
    const missing = pathToFileURL(`${tmp.dir}/missing.pdf`).href;
    const outcome = await send(server.url, {}, missing);
    expect(outcome.result).toMatchObject({ code: ResultCode.FILE_ERROR, success: false, pages: 0 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.json.params.fax).toEqual({
      type: 'finished',
      params: {
        direction: 'send',
        identity: '+1 555 0100',
        remote_identity: '',
        document: missing,
        pages: 0,
        success: false,
        result: ResultCode.FILE_ERROR,
        result_text: 'TIFF/F file cannot be opened',
        format: 'pdf',
      },
    });
  });

  test("the docs' own example URL https//example.com/fax_to_send.pdf fails cleanly with 41 and one finished event", async () => {
    server = await startStatusServer();
    const outcome = await send(server.url, {}, 'https//example.com/fax_to_send.pdf');
    expect(outcome.variables).toMatchObject({
      send_fax_document: 'https//example.com/fax_to_send.pdf',
      send_fax_result: 'failed',
      send_fax_result_code: String(ResultCode.FILE_ERROR),
      send_fax_pages: '0',
    });
    expect(outcome.detail).toContain('did you mean "https://example.com/fax_to_send.pdf"');
    expect(server.requests.map((r) => r.json.params.fax.type)).toEqual(['finished']);
    expect(server.requests[0]!.json.params.fax.params).toMatchObject({ success: false, result: ResultCode.FILE_ERROR });
  });
});

describe('a status_url that misbehaves', () => {
  test('answering 500 is retried three times per event and leaves the fax result unchanged', async () => {
    server = await startStatusServer(() => ({ status: 500 }));
    const outcome = await send(server.url);
    expect(outcome.variables.send_fax_result).toBe('success');
    expect(outcome.result.pages).toBe(2);
    expect(server.requests).toHaveLength(9);
    expect(outcome.callbacks).toMatchObject({ events: 3, delivered: 0, failed: 3, requests: 9 });
    // In order: three tries of page 1, then of page 2, then of finished.
    expect(server.requests.map((r) => r.json.params.fax.params.number ?? 'end')).toEqual([
      1,
      1,
      1,
      2,
      2,
      2,
      'end',
      'end',
      'end',
    ]);
  });

  test('answering 4xx is not retried', async () => {
    server = await startStatusServer(() => ({ status: 404 }));
    const outcome = await send(server.url);
    expect(outcome.result.success).toBe(true);
    expect(server.requests).toHaveLength(3);
    expect(outcome.callbacks).toMatchObject({ delivered: 0, failed: 3, requests: 3 });
  });

  test('a 503 then 200 delivers on the retry', async () => {
    server = await startStatusServer((n) => (n === 1 ? { status: 503 } : {}));
    const outcome = await send(server.url);
    expect(server.requests).toHaveLength(4);
    expect(outcome.callbacks).toMatchObject({ delivered: 3, failed: 0, requests: 4 });
  });

  test('hanging is cut by the per-try timeout; page events behind it are skipped, the finished event still gets a try', async () => {
    server = await startStatusServer(() => ({ hang: true }));
    const started = performance.now();
    const outcome = await send(server.url, { callbacks: { timeoutMs: 200 } });
    const took = performance.now() - started;
    expect(outcome.variables.send_fax_result).toBe('success');
    // Page 1: three tries; page 2: skipped; finished: one try.
    expect(server.requests.map((r) => r.json.params.fax.type)).toEqual(['page', 'page', 'page', 'finished']);
    expect(outcome.callbacks).toMatchObject({ events: 3, delivered: 0, failed: 2, dropped: 1, requests: 4 });
    expect(took).toBeLessThan(5000);
  });

  test('refusing connections leaves the fax result unchanged and gives up in bounded time', async () => {
    const url = await refusedUrl();
    const started = performance.now();
    const outcome = await send(url);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(outcome.variables.send_fax_result).toBe('success');
    expect(outcome.callbacks).toMatchObject({ events: 3, delivered: 0, failed: 2, dropped: 1, requests: 4 });
  });

  test('sendFax waits no longer than callbacks.waitMs for the last event', async () => {
    server = await startStatusServer(() => ({ hang: true }));
    const started = performance.now();
    const outcome = await send(server.url, { callbacks: { timeoutMs: 60_000, waitMs: 300 } });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(outcome.result.success).toBe(true);
    expect(outcome.callbacks).toMatchObject({ events: 3, delivered: 0 });
  });

  test('a private address is refused without allowPrivate, and the fax still succeeds', async () => {
    server = await startStatusServer();
    const outcome = await sendFax(
      { document: twoPages, status_url: server.url },
      { ...context, media: { kind: 'loopback' } },
      { ...quiet, allowFiles: true, prepareDocument: undefined },
    );
    expect(outcome.result.success).toBe(true);
    expect(server.requests).toHaveLength(0);
    expect(outcome.callbacks).toMatchObject({ delivered: 0, requests: 0 });
  });
});

describe('https status_url', () => {
  let tls: ReturnType<typeof makeTestTls>;
  beforeAll(() => (tls = makeTestTls(tmp.dir)));

  test('delivers with the test CA given as callbacks.ca', async () => {
    server = await startStatusServer(() => ({}), tls);
    expect(server.url).toMatch(/^https:/);
    const outcome = await send(server.url, { callbacks: { ca: tls.ca } });
    expect(outcome.callbacks).toMatchObject({ delivered: 3, failed: 0 });
    expect(server.requests.map((r) => r.json.params.fax.type)).toEqual(['page', 'page', 'finished']);
  });

  test('is not delivered when the certificate is not trusted', async () => {
    server = await startStatusServer(() => ({}), tls);
    const outcome = await send(server.url);
    expect(outcome.result.success).toBe(true);
    expect(server.requests).toHaveLength(0);
    expect(outcome.callbacks?.delivered).toBe(0);
  });
});

describe('signed status events', () => {
  test('carry X-Faxline-Signature: sha256=<HMAC-SHA256 of the body> that verifies with the secret', async () => {
    server = await startStatusServer();
    const secret = 'whsec_5f2b1c';
    await send(server.url, { callbacks: { secret } });
    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) {
      const header = r.headers['x-faxline-signature'] as string;
      expect(header).toBe(`sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`);
      expect(verifySignature(r.raw, header, secret)).toBe(true);
      expect(verifySignature(r.raw, header, 'another secret')).toBe(false);
      expect(verifySignature(Buffer.concat([r.raw, Buffer.from(' ')]), header, secret)).toBe(false);
    }
  });
});

describe('StatusCallbacks on its own', () => {
  test('after a give-up, a page event posted later is skipped and the finished event still gets its try', async () => {
    const url = await refusedUrl();
    const messages: string[] = [];
    const queue = new StatusCallbacks(url, { allowPrivate: true, backoffMs: 5, log: (m) => messages.push(m) });
    queue.post({ n: 1 }, { droppable: true, label: 'page 1' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    queue.post({ n: 2 }, { droppable: true, label: 'page 2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    queue.post({ n: 3 }, { label: 'finished' });
    const report = await queue.settle(5000);
    expect(report).toEqual({ events: 3, delivered: 0, failed: 2, dropped: 1, requests: 4 });
    expect(messages.some((m) => m.startsWith('skipped page 2'))).toBe(true);
    expect(messages.some((m) => m.startsWith('status callback finished') && m.includes('not delivered'))).toBe(true);
  });

  test('an endpoint that answers again gets full retries again', async () => {
    server = await startStatusServer((n) => (n <= 3 ? { hang: true } : n === 4 ? {} : { status: 500 }));
    const queue = new StatusCallbacks(server.url, {
      allowPrivate: true,
      backoffMs: 5,
      timeoutMs: 100,
      log: () => undefined,
    });
    queue.post({ n: 1 }, { droppable: true }); // hangs three times: given up
    queue.post({ n: 2 }); // one try, answered 200: the endpoint is back
    queue.post({ n: 3 }, { droppable: true }); // 500: three tries again
    const report = await queue.settle(5000);
    expect(server.requests.map((r) => r.json.n)).toEqual([1, 1, 1, 2, 3, 3, 3]);
    expect(report).toEqual({ events: 3, delivered: 1, failed: 2, dropped: 0, requests: 7 });
  });

  test.each([
    [{ attempts: 0 }, /callback attempts/],
    [{ timeoutMs: Number.NaN }, /callback timeoutMs/],
    [{ secret: '' }, /secret is empty/],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new StatusCallbacks('http://127.0.0.1/x', options)).toThrow(message);
  });
});
