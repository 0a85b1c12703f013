/** A real status_url receiver on 127.0.0.1 for tests: records every request, answers as told. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { listenLocal } from './http-server';

/** One request the server got. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body as received. */
  raw: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** How to answer request number `n` (1-based): a status, after a delay, or never. */
export type Answer = { status?: number; delayMs?: number; hang?: boolean };

export interface StatusServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** TLS material for an https test server: a CA and a server certificate for 127.0.0.1 it signed. */
export interface TestTls {
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
}

/** Makes a throwaway CA and a 127.0.0.1 certificate with openssl, in dir. */
export function makeTestTls(dir: string): TestTls {
  const f = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=faxline test CA',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  fs.writeFileSync(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  );
  return {
    ca: fs.readFileSync(f('ca.pem')),
    key: fs.readFileSync(f('server.key')),
    cert: fs.readFileSync(f('server.pem')),
  };
}

/** Starts a server on 127.0.0.1 (https when tls is given). `answer` decides each response (default 200). */
export async function startStatusServer(
  answer: (n: number, req: ReceivedRequest) => Answer = () => ({}),
  tls?: TestTls,
): Promise<StatusServer> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
      const r: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        json,
      };
      requests.push(r);
      const a = answer(requests.length, r);
      if (a.hang) {
        hanging.add(res);
        return;
      }
      const reply = () => res.writeHead(a.status ?? 200, { 'content-type': 'text/plain' }).end('ok');
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  };
  const server = await listenLocal(
    tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler),
  );
  return {
    url: `${server.url}/fax-status`,
    requests,
    close: async () => {
      for (const res of hanging) res.destroy();
      await server.close();
    },
  };
}

/** A 127.0.0.1 URL on which nothing listens (connections are refused). */
export async function refusedUrl(): Promise<string> {
  const server = await listenLocal(http.createServer());
  await server.close();
  return `${server.url}/fax-status`;
}
