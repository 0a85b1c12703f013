/**
 * FaxPool: calls on worker threads, each worker one SessionGroup on one 20 ms clock. Loopback pairs run
 * unpaced; the calls over real RTP sockets on 127.0.0.1 are paced (they must be), with short pages.
 */
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode, sendFax, writeTiffF, type FaxEvent } from '../../lib';
import { CapacityError } from '../../lib/base/errors';
import { FaxPool } from '../../lib/realtime/pool';
import { textPage } from '../helpers/pages';
import { expectBitExact, useTextDocument } from '../helpers/simulated-calls';

const doc = useTextDocument(2);
let files = 0;
const receivedFile = (): string => path.join(doc.dir, `pool-${++files}.tif`);
/** Ports of the pools in this file: their own range, away from other tests' ports. */
const PORTS = { min: 41000, max: 41999 };

/** A one-page document a few seconds long, for the paced calls. */
function shortDocument(): { file: string; pages: ReturnType<typeof textPage>[] } {
  const pages = [textPage(7, { height: 300 })];
  const file = path.join(doc.dir, 'short.tif');
  writeTiffF(file, pages, 't6');
  return { file, pages };
}

/** A metric's value in the Prometheus text, by its full sample name with labels. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no sample ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

describe('loopback calls on the pool', () => {
  test('four audio and two T.38 pairs on two workers: every page bit-exact, counted in the metrics', async () => {
    const pool = new FaxPool({ workers: 2, paced: false, ports: PORTS });
    try {
      const files = Array.from({ length: 6 }, receivedFile);
      const calls = await Promise.all(
        files.map((file, i) =>
          pool.loopback({ sender: { document: doc.file }, receiver: { receivedFile: file }, t38: i >= 4 }),
        ),
      );
      for (const c of calls) {
        expect(c.sender).toMatchObject({ code: ResultCode.OK, pages: 2 });
        expect(c.receiver).toMatchObject({ code: ResultCode.OK, pages: 2 });
      }
      for (const file of files) expectBitExact(file, doc.pages);
      const text = await pool.metrics.registry.metrics();
      expect(sample(text, 'faxline_faxes_started_total{direction="send"}')).toBe(6);
      expect(sample(text, 'faxline_faxes_finished_total{direction="receive",code="0",success="true"}')).toBe(6);
      expect(pool.stats().workers.map((w) => w.calls)).toEqual([0, 0]);
      expect(pool.active).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('calls over RTP on 127.0.0.1, paced', () => {
  test('send_fax through pool.media to a pooled receiver: the page arrives bit-exact, events in order', async () => {
    const pool = new FaxPool({ workers: 2, ports: PORTS });
    const short = shortDocument();
    try {
      const file = receivedFile();
      const receiver = pool.receive({ receivedFile: file, identity: '200', lines: { rtp: {} } });
      const events: FaxEvent[] = [];
      receiver.on('event', (e) => events.push(e));
      const port = receiver.local.rtp!.port;
      expect(port).toBeGreaterThanOrEqual(PORTS.min);
      expect(port % 2).toBe(0);
      const media = pool.media({ lines: { rtp: { remote: { host: '127.0.0.1', port } } } });
      const sent = await sendFax(
        { document: pathToFileURL(short.file).href, identity: '100' },
        { media },
        { log: () => undefined, allowFiles: true },
      );
      const received = await receiver.done;
      expect(sent.variables.send_fax_result_code).toBe(String(ResultCode.OK));
      expect(sent.variables.send_fax_remote_identity).toBe('200');
      expect(received).toMatchObject({ code: ResultCode.OK, pages: 1, remoteIdentity: '100' });
      expectBitExact(file, short.pages);
      const kinds = events.filter((e) => e.type !== 'frame').map((e) => e.type);
      expect(kinds).toEqual(['negotiated', 'page', 'finished']);
      expect(pool.stats().workers.reduce((n, w) => n + w.frames, 0)).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  }, 120_000);
});

describe('the host controls a pooled call', () => {
  test('hangUp and an AbortSignal end calls with the call-dropped code and their reasons', async () => {
    const pool = new FaxPool({ workers: 1, ports: PORTS });
    // Sends to a port where nobody answers: they run until something ends them.
    const toNowhere = { document: doc.file, lines: { rtp: { remote: { host: '127.0.0.1', port: 9 } } } };
    try {
      const hungUp = pool.send(toNowhere);
      const controller = new AbortController();
      const aborted = pool.send({ ...toNowhere, signal: controller.signal });
      setTimeout(() => {
        hungUp.hangUp('the host hung up');
        controller.abort();
      }, 300);
      expect(await hungUp.done).toMatchObject({ code: ResultCode.CALL_DROPPED, detail: 'the host hung up' });
      expect(await aborted.done).toMatchObject({ code: ResultCode.CALL_DROPPED, detail: 'the call was cancelled' });
    } finally {
      await pool.close();
    }
  });

  test('a line that cannot bind fails its call with the cause, and frees its place', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const pool = new FaxPool({ workers: 1, maxCallsPerWorker: 1, paced: false, ports: PORTS });
    try {
      const fax = pool.send({
        document: doc.file,
        lines: {
          rtp: { local: { host: '127.0.0.1', port: taken.address().port }, remote: { host: '127.0.0.1', port: 9 } },
        },
      });
      const result = await fax.done;
      expect(result.code).toBe(ResultCode.CALL_DROPPED);
      expect(result.detail).toMatch(/EADDRINUSE/);
      expect(pool.active).toBe(0);
      expect(() => pool.send({ document: '', lines: { rtp: {} } })).toThrow(/Expected a file path for document/);
    } finally {
      taken.close();
      await pool.close();
    }
  });
});

describe('back-pressure and drain', () => {
  test('a full pool refuses with CapacityError; a draining one too; drain resolves when the last call ends', async () => {
    const pool = new FaxPool({ workers: 1, maxCallsPerWorker: 1, ports: PORTS });
    try {
      const first = pool.send({ document: doc.file, lines: { rtp: { remote: { host: '127.0.0.1', port: 9 } } } });
      const refuse = (): unknown => {
        try {
          pool.send({ document: doc.file, lines: { rtp: {} } });
        } catch (error) {
          return error;
        }
        return null;
      };
      const full = refuse();
      expect(full).toBeInstanceOf(CapacityError);
      expect(full).toMatchObject({ reason: 'full', code: 'ERR_FAXLINE_CAPACITY' });
      let drained = false;
      const drain = pool.drain().then(() => (drained = true));
      expect(refuse()).toMatchObject({ reason: 'draining' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(drained).toBe(false);
      first.hangUp('deploy');
      await drain;
      expect(await first.done).toMatchObject({ code: ResultCode.CALL_DROPPED, detail: 'deploy' });
      const text = await pool.metrics.registry.metrics();
      expect(sample(text, 'faxline_pool_refused_total{reason="full"}')).toBe(1);
      expect(sample(text, 'faxline_pool_refused_total{reason="draining"}')).toBe(1);
      expect(sample(text, 'faxline_pool_draining')).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
