/**
 * faxline past one machine: `faxline send` through Kamailio (test/sip/kamailio-test.cfg:
 * dispatcher, round-robin, OPTIONS probing, record_route, fail-over only before a 2xx) to two
 * `faxline serve` nodes. Faxes over G.711 and T.38 land one on each node with the pages as sent;
 * a node killed mid-fax loses that fax and the next call goes to the other; a node drained with
 * SIGTERM is taken out by its 503 to OPTIONS and finishes the fax it carries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResultCode, readTiffPages, type FaxPage } from '../../lib';
import { parseVariables, waitUntil, writeShortDocument } from '../helpers/cli-peers';
import { differingRows, tempDir } from '../helpers/pages';
import {
  freeUdpPorts,
  startKamailio,
  startSend,
  startServe,
  stopSipTools,
  type Kamailio,
  type ServeNode,
  type ToolChild,
} from '../helpers/sip-tools';

/** A short page over a paced line takes about 20–40 s; a send is bounded well above that. */
const FAX_BOUND_MS = 100_000;
/** Kamailio probes every second; a node is marked up or down within a few probes. */
const PROBE_BOUND_MS = 15_000;

let tmp: ReturnType<typeof tempDir>;
let document: { file: string; pages: FaxPage[] };
let kamailio: Kamailio;
let nodes: ServeNode[];

beforeAll(async () => {
  tmp = tempDir();
  document = writeShortDocument(tmp.dir, 1, { firstSeed: 51, name: 'one.tif' });
  const [proxy, a, b] = await freeUdpPorts(3);
  nodes = await Promise.all([
    startServe({ port: a!, out: path.join(tmp.dir, 'node-a'), name: 'node a' }),
    startServe({ port: b!, out: path.join(tmp.dir, 'node-b'), name: 'node b' }),
  ]);
  kamailio = await startKamailio({ dir: tmp.dir, port: proxy!, nodes: [a!, b!] });
}, 90_000);

afterAll(async () => {
  await stopSipTools();
  tmp?.cleanup();
});

/** Sends the document to Kamailio. */
function sendThroughProxy(...args: string[]): ToolChild {
  return startSend([document.file, '--to', `sip:fax@127.0.0.1:${kamailio.port}`, ...args]);
}

/** The nodes (by port) Kamailio routed each new INVITE to, in order, from its log. */
function routed(): number[] {
  return [...kamailio.process.log.matchAll(/faxline-test: INVITE \S+ to sip:127\.0\.0\.1:(\d+)/g)].map((m) =>
    Number(m[1]),
  );
}

/** Waits until Kamailio routed `count` INVITEs in all; returns the node ports. */
async function waitRouted(count: number): Promise<number[]> {
  await waitUntil(() => routed().length >= count, 30_000, `Kamailio routing ${count} INVITEs`).catch((error: Error) => {
    throw new Error(`${error.message}; its log:\n${kamailio.process.tail()}`);
  });
  return routed();
}

/** A send's exit status, printed variables and log, bounded. */
async function outcomeOf(
  send: ToolChild,
): Promise<{ status: number | string; variables: Record<string, string>; log: string }> {
  const timer = setTimeout(() => send.kill('SIGKILL'), FAX_BOUND_MS);
  const status = await send.exited;
  clearTimeout(timer);
  return { status, variables: parseVariables(send.log), log: send.log };
}

/** The pages a node wrote for its calls so far, per call folder. */
function receivedPages(node: ServeNode): FaxPage[][] {
  return node
    .calls()
    .map((folder) => path.join(folder, 'received.tif'))
    .filter((file) => fs.existsSync(file))
    .map((file) => readTiffPages(file));
}

/** Expects the fax to have come through whole: one page, identical to the one sent. */
function expectSentPages(pages: FaxPage[] | undefined): void {
  expect(pages).toHaveLength(1);
  expect(differingRows(pages![0]!, document.pages[0]!)).toBe(0);
}

describe('faxline send through Kamailio to two faxline serve nodes', () => {
  test('two faxes land one on each node (round-robin), over G.711 and over T.38, pages as sent', async () => {
    const g711 = sendThroughProxy('--t38', 'off');
    const t38 = sendThroughProxy('--t38', 'prefer');
    const [outG711, outT38] = await Promise.all([outcomeOf(g711), outcomeOf(t38)]);
    for (const out of [outG711, outT38]) {
      if (out.status !== 0)
        throw new Error(`send exited ${String(out.status)}:\n${out.log}\nkamailio:\n${kamailio.process.tail()}`);
      expect(Number(out.variables.send_fax_result_code)).toBe(ResultCode.OK);
      expect(out.variables.send_fax_pages).toBe('1');
    }
    expect(outG711.log).toContain('fax over G.711.');
    expect(outT38.log).toContain('fax over T.38.');
    // One INVITE to each node, no fail-over.
    expect(routed().sort()).toEqual(nodes.map((n) => n.port).sort());
    for (const node of nodes) {
      const pages = receivedPages(node);
      expect(pages).toHaveLength(1);
      expectSentPages(pages[0]);
    }
    // The T.38 re-INVITE and the BYEs went through the proxy (record_route): the nodes sent them to it.
    expect(kamailio.process.log).toMatch(/faxline-test: in-dialog INVITE to /);
    expect(kamailio.process.log).toMatch(/faxline-test: in-dialog BYE to /);
  });

  test('a node killed mid-fax loses that fax; probing marks it down and the next fax goes to the other', async () => {
    const before = routed().length;
    const doomed = sendThroughProxy();
    const [target] = (await waitRouted(before + 1)).slice(before);
    const victim = nodes.find((n) => n.port === target)!;
    const survivor = nodes.find((n) => n !== victim)!;
    // Well into the fax (the page is on the line), then SIGKILL: no BYE, no drain.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    victim.process.kill('SIGKILL');
    const lost = await outcomeOf(doomed);
    expect(lost.status).toBe(1);
    expect(lost.variables.send_fax_result).toBe('failed');
    expect(Number(lost.variables.send_fax_result_code)).not.toBe(ResultCode.OK);
    await kamailio.process.waitForLog(
      new RegExp(`faxline-test: node down sip:127\\.0\\.0\\.1:${victim.port}\\b`),
      PROBE_BOUND_MS,
      'the killed node marked down',
    );

    const survivorFaxes = receivedPages(survivor).length;
    const next = await outcomeOf(sendThroughProxy());
    if (next.status !== 0) throw new Error(`send exited ${String(next.status)}:\n${next.log}`);
    expect(routed().slice(before + 1)).toEqual([survivor.port]);
    const pages = receivedPages(survivor);
    expect(pages).toHaveLength(survivorFaxes + 1);

    // Back in service on the same port for the next test: probing marks it up again.
    const revived = await startServe({ port: victim.port, out: victim.out, name: `${victim.process.name} (again)` });
    nodes[nodes.indexOf(victim)] = revived;
    await kamailio.process.waitForLog(
      new RegExp(`faxline-test: node up sip:127\\.0\\.0\\.1:${victim.port}\\b`),
      PROBE_BOUND_MS,
      'the restarted node marked up',
    );
  });

  test('a node drained with SIGTERM is marked down by its 503 to OPTIONS and finishes its fax', async () => {
    const before = routed().length;
    const send = sendThroughProxy();
    const [target] = (await waitRouted(before + 1)).slice(before);
    const node = nodes.find((n) => n.port === target)!;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    node.process.kill('SIGTERM');
    await kamailio.process.waitForLog(
      new RegExp(`faxline-test: node down sip:127\\.0\\.0\\.1:${node.port}\\b`),
      PROBE_BOUND_MS,
      'the draining node marked down',
    );
    const out = await outcomeOf(send);
    if (out.status !== 0)
      throw new Error(`send exited ${String(out.status)}:\n${out.log}\nnode:\n${node.process.tail()}`);
    expect(Number(out.variables.send_fax_result_code)).toBe(ResultCode.OK);
    expect(await node.process.exited).toBe(0);
    const pages = receivedPages(node);
    expectSentPages(pages[pages.length - 1]);
  });
});
