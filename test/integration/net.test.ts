import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../../lib/base/errors';
import { classifyAddress, fetchBytes, NetError, postJson, POST_RESPONSE_LIMIT, type NetFailure } from '../../lib/net';
import { listenLocal, type LocalServer } from '../helpers/http-server';
import { makeTestTls } from '../helpers/status-server';

// Addresses the policy treats as public for one test, so a 127.0.0.1 server can stand in for
// a public one and a redirect from it to a refused address can be seen being re-checked.
const mockPublic = new Set<string>();
jest.mock('../../lib/net/policy', () => {
  const actual = jest.requireActual('../../lib/net/policy');
  return {
    ...actual,
    classifyAddress: (address: string) => (mockPublic.has(address) ? undefined : actual.classifyAddress(address)),
  };
});

// Host names with made-up DNS answers, as a rebinding or split-horizon name would give them;
// every other name resolves as usual.
const mockDns = new Map<string, string[]>();
jest.mock('node:dns', () => {
  const actual = jest.requireActual('node:dns');
  return {
    ...actual,
    lookup: (hostname: string, options: object, callback: (...args: unknown[]) => void) => {
      const answers = mockDns.get(hostname);
      if (!answers) return actual.lookup(hostname, options, callback);
      const all = answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      setImmediate(() => callback(null, all));
    },
  };
});

interface TestServer extends LocalServer {
  /** Connections the server accepted. */
  connections: number;
  requests: http.IncomingMessage[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  mockPublic.clear();
  mockDns.clear();
});

async function listen(server: http.Server, scheme: 'http' | 'https'): Promise<TestServer> {
  const seen = { connections: 0, requests: [] as http.IncomingMessage[] };
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', () => seen.connections++);
  server.on('request', (req) => seen.requests.push(req));
  const state = Object.assign(seen, await listenLocal(server));
  servers.push(state);
  return state;
}

function serve(handler: http.RequestListener): Promise<TestServer> {
  return listen(http.createServer(handler), 'http');
}

/** The NetError a promise rejects with, checked for its reason. */
async function failure(promise: Promise<unknown>, reason: NetFailure): Promise<NetError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a NetError '${reason}' but the promise resolved`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NetError);
  expect((error as NetError).code).toBe('ERR_FAXLINE_NET');
  expect((error as NetError).reason).toBe(reason);
  return error as NetError;
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const open = { allowPrivate: true };

describe('the address policy classifies every non-public form', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::a00:1', 'private'],
    ['not-an-address', 'reserved'],
  ])('%s is %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  test.each(['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address)).toBeUndefined();
    },
  );
});

describe('URLs and schemes', () => {
  test('a string that is not an absolute URL fails with reason url', async () => {
    const error = await failure(fetchBytes('https//example.com/fax_to_send.pdf'), 'url');
    expect(error.message).toContain('https//example.com/fax_to_send.pdf');
  });

  test.each(['ftp://127.0.0.1/a.pdf', 'javascript:alert(1)', 'gopher://example.com/'])(
    '%s is refused by scheme',
    async (url) => {
      const error = await failure(fetchBytes(url, open), 'scheme');
      expect(error.message).toContain(new URL(url).protocol);
    },
  );

  test('postJson takes only http: and https:', async () => {
    await failure(postJson('file:///etc/passwd', '{}', open), 'scheme');
    await failure(postJson('data:,x', '{}', open), 'scheme');
  });

  test('bad option values are rejected as invalid options', async () => {
    await expect(fetchBytes('data:,x', { timeoutMs: -1 })).rejects.toMatchObject({
      code: 'ERR_FAXLINE_INVALID_OPTION',
    });
    await expect(fetchBytes('data:,x', { maxRedirects: 1.5 })).rejects.toMatchObject({
      code: 'ERR_FAXLINE_INVALID_OPTION',
    });
  });
});

describe('HTTP fetch', () => {
  test('a 200 gives the exact bytes, the content type and the URL', async () => {
    const server = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF));
    const result = await fetchBytes(`${server.url}/doc.pdf`, open);
    expect(result.bytes.equals(PDF)).toBe(true);
    expect(result.contentType).toBe('application/pdf');
    expect(result.url).toBe(`${server.url}/doc.pdf`);
    expect(server.requests[0].method).toBe('GET');
    expect(server.requests[0].headers['user-agent']).toBe('faxline');
  });

  test('a 404 fails with reason status, the status and a message naming the URL', async () => {
    const server = await serve((_req, res) => res.writeHead(404).end('<h1>Not Found</h1>'));
    const error = await failure(fetchBytes(`${server.url}/missing.pdf`, open), 'status');
    expect(error.status).toBe(404);
    expect(error.message).toBe(`HTTP 404 from ${server.url}/missing.pdf`);
  });

  test('an error status is reported at once, without waiting for its body', async () => {
    const server = await serve((_req, res) => res.writeHead(503).write('<html>'));
    const started = Date.now();
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, { ...open, timeoutMs: 5000 }), 'status');
    expect(error.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a refused connection fails with reason network', async () => {
    const server = await serve(() => undefined);
    await server.close();
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, open), 'network');
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('the address policy is applied to the connected address', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await serve((_req, res) => res.end(PDF));
  });

  test('loopback is refused by default, before any connection is made', async () => {
    const error = await failure(fetchBytes(`${server.url}/a.pdf`), 'address');
    expect(error.message).toBe(`refused address 127.0.0.1 for ${server.url}/a.pdf (loopback; allowPrivate to permit)`);
    expect(server.connections).toBe(0);
  });

  test('loopback is allowed with allowPrivate', async () => {
    const result = await fetchBytes(`${server.url}/a.pdf`, { allowPrivate: true });
    expect(result.bytes.equals(PDF)).toBe(true);
  });

  test.each([
    ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/a.pdf`],
    ['an IPv4-mapped IPv6 literal in hex', (port: number) => `http://[::ffff:7f00:1]:${port}/a.pdf`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/a.pdf`],
    ['0.0.0.0', (port: number) => `http://0.0.0.0:${port}/a.pdf`],
    ['a decimal IPv4 literal', (port: number) => `http://2130706433:${port}/a.pdf`],
  ])('%s is refused', async (_name, url) => {
    await failure(fetchBytes(url(server.port)), 'address');
    expect(server.connections).toBe(0);
  });

  test('a host name resolving to 127.0.0.1 (localhost) is refused on its resolved address', async () => {
    const error = await failure(fetchBytes(`http://localhost:${server.port}/a.pdf`), 'address');
    expect(error.message).toMatch(/^refused address (127\.0\.0\.1|::1) for http:\/\/localhost:\d+\/a\.pdf \(loopback;/);
    expect(server.connections).toBe(0);
  });

  test('a name with private and public answers connects only to a public one', async () => {
    // Both answers are listening on the same port: the loopback one (`server`, refused) and one
    // on 127.0.0.2 that stands in for a public address.
    // The one address besides 127.0.0.1 these tests use: on Linux all of 127/8 is loopback.
    const standIn = http.createServer((_req, res) => res.end(PDF));
    await new Promise<void>((resolve, reject) => {
      standIn.once('error', reject);
      standIn.listen(server.port, '127.0.0.2', resolve);
    });
    try {
      mockPublic.add('127.0.0.2');
      mockDns.set('split.test', ['127.0.0.1', '127.0.0.2']);
      const result = await fetchBytes(`http://split.test:${server.port}/a.pdf`);
      expect(result.bytes.equals(PDF)).toBe(true);
      expect(server.connections).toBe(0);
    } finally {
      standIn.closeAllConnections();
      await new Promise<void>((resolve) => standIn.close(() => resolve()));
    }
  });

  test('a name whose every answer is non-public is refused, naming the first', async () => {
    mockDns.set('rebound.test', ['10.0.0.7', '::1']);
    const error = await failure(fetchBytes(`http://rebound.test:${server.port}/a.pdf`), 'address');
    expect(error.message).toMatch(/^refused address 10\.0\.0\.7 for http:\/\/rebound\.test:\d+\/a\.pdf \(private;/);
    expect(server.connections).toBe(0);
  });

  test('a host name resolving to 127.0.0.1 is reachable with allowPrivate', async () => {
    const result = await fetchBytes(`http://localhost:${server.port}/a.pdf`, { allowPrivate: true });
    expect(result.bytes.equals(PDF)).toBe(true);
  });
});

/** A server where /r/N redirects to /r/N-1 and /r/0 serves the PDF. */
function redirectChain(): Promise<TestServer> {
  return serve((req, res) => {
    const n = Number(/^\/r\/(\d+)$/.exec(req.url ?? '')?.[1] ?? NaN);
    if (n > 0) res.writeHead(302, { location: `/r/${n - 1}` }).end('moved');
    else if (n === 0) res.writeHead(200, { 'content-type': 'application/pdf' }).end(PDF);
    else res.writeHead(404).end();
  });
}

describe('redirects', () => {
  test('a chain within the limit is followed to the final URL', async () => {
    const server = await redirectChain();
    const result = await fetchBytes(`${server.url}/r/5`, open);
    expect(result.bytes.equals(PDF)).toBe(true);
    expect(result.url).toBe(`${server.url}/r/0`);
    expect(server.requests).toHaveLength(6);
  });

  test('a chain over the limit fails with reason redirects', async () => {
    const server = await redirectChain();
    const error = await failure(fetchBytes(`${server.url}/r/3`, { ...open, maxRedirects: 2 }), 'redirects');
    expect(error.message).toContain(`more than 2 redirects from ${server.url}/r/3`);
    expect(server.requests).toHaveLength(3);
  });

  test('the default limit is 5', async () => {
    const server = await redirectChain();
    await failure(fetchBytes(`${server.url}/r/6`, open), 'redirects');
  });

  test('a redirect to file: is refused by scheme', async () => {
    const server = await serve((_req, res) => res.writeHead(301, { location: 'file:///etc/passwd' }).end());
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, open), 'scheme');
    expect(error.message).toContain('file:');
  });

  test('a redirect to file: is refused by scheme even with allowFiles', async () => {
    const server = await serve((_req, res) => res.writeHead(301, { location: 'file:///etc/passwd' }).end());
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, { ...open, allowFiles: true }), 'scheme');
    expect(error.message).toMatch(/^redirect to unsupported scheme file: \(file:\/\/\/etc\/passwd\)/);
  });

  test('a redirect to a refused address is checked like the first hop', async () => {
    mockPublic.add('127.0.0.1');
    const server = await serve((req, res) => {
      if (req.url === '/ok') res.end(PDF);
      else
        res
          .writeHead(307, { location: req.url === '/private' ? 'http://10.255.0.1/a.pdf' : 'http://[::1]/a.pdf' })
          .end();
    });
    // The stand-in public server itself is reachable without allowPrivate…
    expect((await fetchBytes(`${server.url}/ok`)).bytes.equals(PDF)).toBe(true);
    // …but its redirects to a private and a loopback address are not.
    const error = await failure(fetchBytes(`${server.url}/private`), 'address');
    expect(error.message).toBe(
      `refused address 10.255.0.1 for http://10.255.0.1/a.pdf (redirected from ${server.url}/private) (private; allowPrivate to permit)`,
    );
    await failure(fetchBytes(`${server.url}/loopback`), 'address');
  });
});

describe('limits', () => {
  test('a server that never answers times out within the limit', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    const error = await failure(fetchBytes(`${server.url}/slow.pdf`, { ...open, timeoutMs: 500 }), 'timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
    expect(error.message).toBe(`timed out after 0.5 s fetching ${server.url}/slow.pdf`);
  });

  test('by default the limit is 30 s', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    const error = await failure(fetchBytes(`${server.url}/slow.pdf`, open), 'timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(29_900);
    expect(error.message).toBe(`timed out after 30 s fetching ${server.url}/slow.pdf`);
  }, 45_000);

  test('a body that stalls halfway times out too (the limit covers the body)', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(PDF);
    });
    await failure(fetchBytes(`${server.url}/stall.pdf`, { ...open, timeoutMs: 500 }), 'timeout');
  });

  test('a Content-Length over the limit fails early', async () => {
    // The server declares 10 MiB but sends only 1 KiB and stalls: only an early refusal ends quickly.
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    const started = Date.now();
    const error = await failure(fetchBytes(`${server.url}/big.pdf`, { ...open, maxBytes: 1024 * 1024 }), 'too-large');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toBe(`${server.url}/big.pdf is larger than the 1 MiB limit (Content-Length 10485760)`);
  });

  test('by default the limit is 50 MiB: a body of exactly 50 MiB is accepted, one byte more is refused', async () => {
    const limit = 50 * 1024 * 1024;
    const body = Buffer.alloc(limit + 1, 0x42);
    const server = await serve((req, res) => res.end(req.url === '/exact' ? body.subarray(0, limit) : body));
    expect((await fetchBytes(`${server.url}/exact`, open)).bytes.length).toBe(limit);
    const error = await failure(fetchBytes(`${server.url}/over`, open), 'too-large');
    expect(error.message).toBe(`${server.url}/over is larger than the 50 MiB limit (Content-Length ${limit + 1})`);
  });

  test('a chunked body without Content-Length is cut off at the limit', async () => {
    let stopped = false;
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024, 0x41)), 1);
      res.on('close', () => {
        stopped = true;
        clearInterval(timer);
      });
    });
    const error = await failure(
      fetchBytes(`${server.url}/endless.pdf`, { ...open, maxBytes: 256 * 1024 }),
      'too-large',
    );
    expect(error.message).toContain('is larger than the 256 KiB limit');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(true);
  });

  test('a body of exactly the limit is accepted', async () => {
    const body = Buffer.alloc(4096, 0x42);
    const server = await serve((_req, res) => res.end(body));
    const result = await fetchBytes(`${server.url}/exact`, { ...open, maxBytes: 4096 });
    expect(result.bytes.length).toBe(4096);
  });
});

describe('abort', () => {
  test('an AbortSignal stops a fetch in flight with reason aborted', async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, { ...open, signal: controller.signal }), 'aborted');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toContain(`${server.url}/a.pdf`);
  });

  test('an already aborted signal fails before connecting', async () => {
    const server = await serve((_req, res) => res.end(PDF));
    await failure(fetchBytes(`${server.url}/a.pdf`, { ...open, signal: AbortSignal.abort() }), 'aborted');
    expect(server.connections).toBe(0);
  });
});

describe('file: and data: URLs', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-net-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a file: URL without allowFiles is refused by scheme, whether or not the file exists', async () => {
    const file = path.join(dir, 'secret.pdf');
    fs.writeFileSync(file, PDF);
    for (const url of [pathToFileURL(file).href, pathToFileURL(path.join(dir, 'absent.pdf')).href]) {
      for (const options of [undefined, open, { allowFiles: false }]) {
        const error = await failure(fetchBytes(url, options), 'scheme');
        expect(error.message).toBe(`file: URLs are refused: ${url} (a local file; allowFiles to permit)`);
      }
    }
  });

  test('a file: URL reads the local file with allowFiles', async () => {
    const file = path.join(dir, 'doc.pdf');
    fs.writeFileSync(file, PDF);
    const result = await fetchBytes(pathToFileURL(file).href, { allowFiles: true });
    expect(result.bytes.equals(PDF)).toBe(true);
    expect(result.contentType).toBeUndefined();
  });

  test('allowFiles must be a boolean', async () => {
    const attempt = fetchBytes('data:,x', { allowFiles: 'yes' as unknown as boolean });
    await expect(attempt).rejects.toThrow(InvalidOptionError);
    await expect(attempt).rejects.toThrow('Expected a boolean for allowFiles but got string');
  });

  test('a file over the size limit fails with too-large', async () => {
    const file = path.join(dir, 'big.pdf');
    fs.writeFileSync(file, Buffer.alloc(2048));
    await failure(fetchBytes(pathToFileURL(file).href, { allowFiles: true, maxBytes: 2047 }), 'too-large');
  });

  test('a missing file, a directory and a device fail with reason url', async () => {
    const files = { allowFiles: true };
    await failure(fetchBytes(pathToFileURL(path.join(dir, 'absent.pdf')).href, files), 'url');
    await failure(fetchBytes(pathToFileURL(dir).href, files), 'url');
    await failure(fetchBytes('file:///dev/zero', files), 'url');
  });

  test('a base64 data: URL decodes to its bytes and media type', async () => {
    const result = await fetchBytes(`data:application/pdf;base64,${PDF.toString('base64')}`);
    expect(result.bytes.equals(PDF)).toBe(true);
    expect(result.contentType).toBe('application/pdf');
  });

  test('a percent-encoded data: URL decodes byte for byte', async () => {
    const result = await fetchBytes('data:,%25PDF-1.4%0A%FF%00end');
    expect([...result.bytes]).toEqual([...Buffer.from('%PDF-1.4\n'), 0xff, 0x00, ...Buffer.from('end')]);
    expect(result.contentType).toBe('text/plain;charset=US-ASCII');
  });

  test('bad base64 fails with reason url and an oversized one with too-large', async () => {
    await failure(fetchBytes('data:application/pdf;base64,!!!notbase64'), 'url');
    await failure(fetchBytes(`data:;base64,${Buffer.alloc(100).toString('base64')}`, { maxBytes: 99 }), 'too-large');
  });
});

describe('https', () => {
  let dir: string;
  let ca: string;
  let key: string;
  let cert: string;

  beforeAll(() => {
    // A throwaway CA and a server certificate for 127.0.0.1, made fresh for each run.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faxline-tls-'));
    const tls = makeTestTls(dir);
    ca = tls.ca.toString('utf8');
    key = tls.key.toString('utf8');
    cert = tls.cert.toString('utf8');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function serveTls(handler: http.RequestListener): Promise<TestServer> {
    return listen(https.createServer({ key, cert }, handler), 'https');
  }

  test('works with the test CA passed as ca', async () => {
    const server = await serveTls((_req, res) => res.end(PDF));
    const result = await fetchBytes(`${server.url}/a.pdf`, { ...open, ca });
    expect(result.bytes.equals(PDF)).toBe(true);
  });

  test('fails with reason network without the CA', async () => {
    const server = await serveTls((_req, res) => res.end(PDF));
    const error = await failure(fetchBytes(`${server.url}/a.pdf`, open), 'network');
    expect(error.message).toMatch(/certificate/i);
  });

  test('the extra CA adds to the public roots instead of replacing them', async () => {
    const server = await serveTls((_req, res) => res.end(PDF));
    const result = await fetchBytes(`${server.url}/a.pdf`, { ...open, ca: [Buffer.from(ca)] });
    expect(result.bytes.equals(PDF)).toBe(true);
  });

  test('postJson over https works with the CA and fails without it', async () => {
    const bodies: string[] = [];
    const server = await serveTls((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    expect(await postJson(`${server.url}/status`, '{"a":1}', { ...open, ca })).toEqual({ status: 204, body: '' });
    expect(bodies).toEqual(['{"a":1}']);
    await failure(postJson(`${server.url}/status`, '{"a":2}', open), 'network');
    expect(bodies).toHaveLength(1);
  });

  test('an https → http redirect is followed and checked like the first hop', async () => {
    const plain = await serve((_req, res) => res.end(PDF));
    const server = await serveTls((_req, res) => res.writeHead(302, { location: `${plain.url}/b.pdf` }).end());
    const result = await fetchBytes(`${server.url}/a.pdf`, { ...open, ca });
    expect(result.url).toBe(`${plain.url}/b.pdf`);
    mockPublic.add('127.0.0.1');
    const tls = await serveTls((_req, res) => res.writeHead(302, { location: 'http://192.168.0.1/b.pdf' }).end());
    await failure(fetchBytes(`${tls.url}/a.pdf`, { ca }), 'address');
  });
});

describe('postJson', () => {
  function recorder(status = 200, reply = '{"ok":true}') {
    const received: { headers: http.IncomingHttpHeaders; body: string; method?: string; url?: string }[] = [];
    return {
      received,
      handler: ((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            method: req.method,
            url: req.url,
          });
          res.writeHead(status, { 'content-type': 'application/json' }).end(reply);
        });
      }) as http.RequestListener,
    };
  }

  test('the server receives the exact body and headers', async () => {
    const { received, handler } = recorder();
    const server = await serve(handler);
    const body = JSON.stringify({ event_type: 'calling.call.fax', timestamp: 1764312000.123456, text: 'é ✓' });
    const result = await postJson(`${server.url}/status`, body, {
      ...open,
      headers: { 'X-Faxline-Signature': 'sha256=abc' },
    });
    expect(result).toEqual({ status: 200, body: '{"ok":true}' });
    expect(received).toHaveLength(1);
    expect(received[0].method).toBe('POST');
    expect(received[0].url).toBe('/status');
    expect(received[0].body).toBe(body);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(received[0].headers['x-faxline-signature']).toBe('sha256=abc');
  });

  test('a caller content-type replaces the default instead of doubling it', async () => {
    const { received, handler } = recorder();
    const server = await serve(handler);
    await postJson(server.url, '{}', { ...open, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    expect(received[0].headers['content-type']).toBe('application/json; charset=utf-8');
  });

  test('any HTTP status resolves, and a 3xx is not followed', async () => {
    const { received, handler } = recorder(500, 'oops');
    const failing = await serve(handler);
    expect(await postJson(failing.url, '{}', open)).toEqual({ status: 500, body: 'oops' });
    const moved = await serve((_req, res) => res.writeHead(302, { location: `${failing.url}/elsewhere` }).end('moved'));
    expect(await postJson(moved.url, '{}', open)).toEqual({ status: 302, body: 'moved' });
    expect(received).toHaveLength(1);
  });

  test('the response body is capped', async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(1024 * 1024, 0x61)));
    const result = await postJson(server.url, '{}', open);
    expect(result.body.length).toBe(POST_RESPONSE_LIMIT);
  });

  test('loopback is refused by default', async () => {
    const { received, handler } = recorder();
    const server = await serve(handler);
    await failure(postJson(server.url, '{}'), 'address');
    expect(server.connections).toBe(0);
    expect(received).toHaveLength(0);
  });

  test('a hanging server times out and an abort stops the post', async () => {
    const server = await serve(() => undefined);
    const error = await failure(postJson(server.url, '{}', { ...open, timeoutMs: 300 }), 'timeout');
    expect(error.message).toBe(`timed out after 0.3 s posting to ${server.url}/`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await failure(postJson(server.url, '{}', { ...open, signal: controller.signal }), 'aborted');
  });

  test('a refused connection is a network error', async () => {
    const server = await serve(() => undefined);
    await server.close();
    await failure(postJson(server.url, '{}', open), 'network');
  });
});
