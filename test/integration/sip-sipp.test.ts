/**
 * SIPp as the judge of faxline's SIP signalling: SIPp calls `faxline serve` (T.38 accepted and
 * refused, a first offer with m=image, a refresh, glare, OPTIONS, drain, CANCEL, a lost 2xx and a
 * missing ACK), and SIPp answers `faxline send` (a T.38 re-INVITE from the far end, 488, no
 * answer, a 407 challenge). The scenarios are test/sip/*.xml; SIPp carries no media, so these
 * check signalling and what the fax reports, not pages.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ResultCode } from '../../lib';
import { parseVariables, writeShortDocument } from '../helpers/cli-peers';
import { tempDir } from '../helpers/pages';
import {
  describeSipp,
  flowOf,
  freeUdpPorts,
  header,
  freeMediaPort,
  runSipp,
  startSend,
  startServe,
  startSipp,
  stopSipTools,
  type ServeNode,
  type SippOptions,
  type SippResult,
  type TracedMessage,
} from '../helpers/sip-tools';

/** A SIPp scenario against serve ends within this (the no-ACK one waits 64*T1 = 32 s for serve's BYE). */
const SCENARIO_S = 20;
const NO_ACK_S = 50;

let tmp: ReturnType<typeof tempDir>;
let document: string;
/** serve with t38 prefer, and with t38 off; a third (t38 off) that the drain test stops. */
let prefer: ServeNode;
let off: ServeNode;
let draining: ServeNode;
let ringing: ServeNode;
/** The no-ACK scenario takes 32 s: started in beforeAll, judged in its own test. */
let noAck: Promise<SippResult>;

beforeAll(async () => {
  tmp = tempDir();
  document = writeShortDocument(tmp.dir, 1, { firstSeed: 41, name: 'one.tif' }).file;
  const [p1, p2, p3, p4] = await freeUdpPorts(4);
  [prefer, off, draining, ringing] = await Promise.all([
    startServe({ port: p1!, out: path.join(tmp.dir, 'prefer') }),
    startServe({ port: p2!, out: path.join(tmp.dir, 'off'), args: ['--t38', 'off'] }),
    startServe({ port: p3!, out: path.join(tmp.dir, 'draining'), args: ['--t38', 'off'] }),
    // Rings 3 s before answering, so a CANCEL can come before the answer.
    startServe({ port: p4!, out: path.join(tmp.dir, 'ringing'), args: ['--t38', 'off', '--answer-after', '3000'] }),
  ]);
  noAck = callServe(off, 'serve-no-ack.xml', NO_ACK_S);
}, 90_000);

afterAll(async () => {
  await noAck?.catch(() => undefined);
  await stopSipTools();
  tmp?.cleanup();
});

/** Runs a scenario that calls `node` from a free port. */
async function callServe(node: ServeNode, scenario: string, timeoutS = SCENARIO_S, extraArgs: string[] = []) {
  const [port] = await freeUdpPorts(1);
  return runSipp({
    scenario,
    dir: tmp.dir,
    port: port!,
    mediaPort: await freeMediaPort(),
    target: { host: '127.0.0.1', port: node.port },
    timeoutS,
    extraArgs,
  });
}

/** Expects SIPp to have passed its scenario (exit 0), with its errors and flow shown otherwise. */
function expectPassed(result: SippResult): void {
  if (result.status !== 0) throw new Error(describeSipp(result));
}

/**
 * A send that SIPp hung up with a BYE, after the fax had started on `transport` (a line of the
 * CLI's log): SIPp carries no fax, so the call was dropped, and the log says by whom.
 */
function expectHungUpBySipp(
  out: { status: unknown; variables: Record<string, string>; log: string },
  transport: string,
): void {
  expect(out.status).toBe(1);
  expect(Number(out.variables.send_fax_result_code)).toBe(ResultCode.CALL_DROPPED);
  expect(out.log).toContain(transport);
  expect(out.log).toContain('(the far end hung up (SIP BYE))');
}

/** The messages of one direction and method (requests) or CSeq method and status (responses). */
function pick(messages: TracedMessage[], direction: 'sent' | 'received', method: string, status = 0): TracedMessage[] {
  return messages.filter((m) => m.direction === direction && m.method === method && m.status === status);
}

/** The `m=` line of an SDP body. */
function mLine(body: string): string {
  return /^m=.*$/m.exec(body)?.[0] ?? '';
}

/** The `o=` line of an SDP body. */
function oLine(body: string): string {
  return /^o=.*$/m.exec(body)?.[0] ?? '';
}

describe('SIPp calls faxline serve', () => {
  test('serve asks for T.38 with a re-INVITE and takes the 200 (SIPp ACKed, BYE answered 200)', async () => {
    const result = await callServe(prefer, 'serve-t38-accept.xml');
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual([
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '<- INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [answer] = pick(result.messages, 'received', 'INVITE', 200);
    const [reinvite] = pick(result.messages, 'received', 'INVITE');
    expect(mLine(answer!.body)).toMatch(/^m=audio [1-9]\d* RTP\/AVP 0\b/);
    expect(mLine(reinvite!.body)).toMatch(/^m=image [1-9]\d* udptl t38$/);
    // The re-INVITE is in the dialog: SIPp's Contact as the target, the same Call-ID, serve's own CSeq.
    expect(reinvite!.startLine).toBe(`INVITE ${/<([^>]+)>/.exec(header(result.messages[0]!, 'Contact')!)![1]} SIP/2.0`);
    expect(header(reinvite!, 'Call-ID')).toBe(header(result.messages[0]!, 'Call-ID'));
    // The same session as serve's answer, one version up (RFC 3264 section 8).
    const [, id, version] = /^o=\S+ (\d+) (\d+)/.exec(oLine(answer!.body))!;
    expect(oLine(reinvite!.body)).toMatch(new RegExp(`^o=\\S+ ${id} ${Number(version) + 1} `));
  });

  test('a 488 to the T.38 re-INVITE is ACKed and the call stays on G.711 until the BYE', async () => {
    const result = await callServe(prefer, 'serve-t38-refuse.xml');
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual([
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '<- INVITE',
      '-> 488 INVITE',
      '<- ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    // The ACK of a 488 belongs to the re-INVITE's transaction: its branch and CSeq number.
    const [reinvite] = pick(result.messages, 'received', 'INVITE');
    const [ack] = pick(result.messages, 'received', 'ACK');
    expect(header(ack!, 'Via')!.split(';branch=')[1]!.split(';')[0]).toBe(
      header(reinvite!, 'Via')!.split(';branch=')[1]!.split(';')[0],
    );
    expect(header(ack!, 'CSeq')).toBe(`${header(reinvite!, 'CSeq')!.split(' ')[0]!} ACK`);
  });

  test('a first offer with m=image is answered with m=image and no re-INVITE', async () => {
    const result = await callServe(prefer, 'serve-image-offer.xml');
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual(['-> INVITE', '<- 200 INVITE', '-> ACK', '-> BYE', '<- 200 BYE']);
    const [answer] = pick(result.messages, 'received', 'INVITE', 200);
    expect(mLine(answer!.body)).toMatch(/^m=image [1-9]\d* udptl t38$/);
    expect(answer!.body).toMatch(/^a=T38FaxVersion:0$/m);
  });

  test('an identical re-INVITE mid-T.38 is a refresh: 200 with serve SDP unchanged, no re-INVITE of its own', async () => {
    const result = await callServe(prefer, 'serve-refresh.xml');
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual([
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '<- INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [t38Offer] = pick(result.messages, 'received', 'INVITE');
    const [, refreshAnswer] = pick(result.messages, 'received', 'INVITE', 200);
    // The same SDP serve offered for T.38: same o= version, same image port.
    expect(refreshAnswer!.body).toBe(t38Offer!.body);
  });

  test('glare: serve answers 491 to a re-INVITE crossing its own, then retries after its back-off', async () => {
    const result = await callServe(prefer, 'serve-glare.xml');
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual([
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '<- INVITE',
      '-> INVITE',
      '<- 491 INVITE',
      '-> ACK',
      '-> 491 INVITE',
      '<- ACK',
      '<- INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [first, retry] = pick(result.messages, 'received', 'INVITE');
    expect(mLine(retry!.body)).toMatch(/^m=image [1-9]\d* udptl t38$/);
    // A new transaction in the same dialog: a higher CSeq and a new branch.
    expect(Number(header(retry!, 'CSeq')!.split(' ')[0])).toBe(Number(header(first!, 'CSeq')!.split(' ')[0]) + 1);
    expect(header(retry!, 'Via')).not.toBe(header(first!, 'Via'));
  });

  test('OPTIONS is answered 200 with Allow listing INVITE, ACK, BYE, CANCEL and OPTIONS', async () => {
    const result = await callServe(prefer, 'serve-options.xml');
    expectPassed(result);
    const [ok] = pick(result.messages, 'received', 'OPTIONS', 200);
    const allow = (header(ok!, 'Allow') ?? '').split(/\s*,\s*/);
    expect(allow).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS']));
  });

  test('a CANCEL while serve rings gets 200 and the INVITE 487', async () => {
    const result = await callServe(ringing, 'serve-cancel.xml');
    expectPassed(result);
    // 100 and 180 may or may not come first (the CANCEL can be read before serve rings).
    const provisional = ['<- 100 INVITE', '<- 180 INVITE'];
    expect(flowOf(result.messages).filter((line) => !provisional.includes(line))).toEqual([
      '-> INVITE',
      '-> CANCEL',
      '<- 200 CANCEL',
      '<- 487 INVITE',
      '-> ACK',
    ]);
  });

  test('a lost 200 is retransmitted; the ACK of the retransmission completes the call', async () => {
    const result = await callServe(off, 'serve-lost-2xx.xml', SCENARIO_S, ['-nr']);
    expectPassed(result);
    expect(flowOf(result.messages)).toEqual([
      '-> INVITE',
      '<- 200 INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [first, again] = pick(result.messages, 'received', 'INVITE', 200);
    expect(again!.body).toBe(first!.body);
    expect(header(again!, 'To')).toBe(header(first!, 'To'));
  });

  test('a 200 never ACKed is retransmitted until 64*T1, then serve sends BYE', async () => {
    const result = await noAck;
    expectPassed(result);
    const flow = flowOf(result.messages);
    expect(flow[0]).toBe('-> INVITE');
    expect(flow.slice(-2)).toEqual(['<- BYE', '-> 200 BYE']);
    // T1 = 500 ms doubling to T2 = 4 s within 32 s: at 0, 0.5, 1.5, 3.5, 7.5, 11.5, … 31.5 s: 11 in all.
    const oks = pick(result.messages, 'received', 'INVITE', 200);
    expect(oks.length).toBe(11);
    expect(new Set(oks.map((m) => m.body)).size).toBe(1);
    expect(pick(result.messages, 'sent', 'ACK')).toHaveLength(0);
  });

  test('draining (SIGTERM): OPTIONS and new INVITEs get 503, the call in flight goes on, then serve exits 0', async () => {
    const [port] = await freeUdpPorts(1);
    const held = await startSipp({
      scenario: 'serve-held.xml',
      dir: tmp.dir,
      port: port!,
      mediaPort: await freeMediaPort(),
      target: { host: '127.0.0.1', port: draining.port },
      timeoutS: SCENARIO_S,
    });
    // Drain once the call is up (SIPp sent its ACK).
    const until = Date.now() + 10_000;
    while (pick(held.messagesSoFar(), 'sent', 'ACK').length === 0) {
      if (Date.now() > until || held.process.exitStatus !== null) throw new Error(describeSipp(await held.done));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    draining.process.kill('SIGTERM');
    const refused = await callServe(draining, 'serve-draining.xml');
    expectPassed(refused);
    expect(flowOf(refused.messages).filter((line) => line !== '<- 100 INVITE')).toEqual([
      '-> OPTIONS',
      '<- 503 OPTIONS',
      '-> INVITE',
      '<- 503 INVITE',
      '-> ACK',
    ]);
    expect(draining.process.exitStatus).toBeNull();
    const call = await held.done;
    expectPassed(call);
    expect(flowOf(call.messages).slice(-2)).toEqual(['-> BYE', '<- 200 BYE']);
    expect(await draining.process.exited).toBe(0);
  });
});

/** Runs `faxline send` to a SIPp that plays the far end; resolves with both outcomes. */
async function sendToSipp(scenario: string, sendArgs: string[], sippArgs: string[] = []) {
  const [port] = await freeUdpPorts(1);
  const options: SippOptions = {
    scenario,
    dir: tmp.dir,
    port: port!,
    mediaPort: await freeMediaPort(),
    timeoutS: SCENARIO_S,
    extraArgs: sippArgs,
  };
  const sipp = await startSipp(options);
  const send = startSend([document, '--to', `sip:fax@127.0.0.1:${port!}`, ...sendArgs]);
  const status = await send.exited;
  const result = await sipp.done;
  return { status, sipp: result, log: send.log, variables: parseVariables(send.log) };
}

describe('faxline send with SIPp as the far end', () => {
  test('a T.38 re-INVITE from the far end is answered with m=image and the fax moves to T.38', async () => {
    // The far end asks 1.5 s after the call is up, before the caller's own request (2 s after its fax starts).
    const out = await sendToSipp('send-uas-t38.xml', ['--t38', 'prefer'], ['-d', '1500']);
    expectPassed(out.sipp);
    expect(flowOf(out.sipp.messages)).toEqual([
      '<- INVITE',
      '-> 100 INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '-> INVITE',
      '<- 200 INVITE',
      '-> ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [answer] = pick(out.sipp.messages, 'received', 'INVITE', 200);
    expect(mLine(answer!.body)).toMatch(/^m=image [1-9]\d* udptl t38$/);
    expectHungUpBySipp(out, 'fax over T.38.');
  });

  test('a 488 to the caller T.38 re-INVITE is ACKed and the fax falls back to G.711', async () => {
    const out = await sendToSipp('send-uas-488.xml', ['--t38', 'prefer']);
    expectPassed(out.sipp);
    expect(flowOf(out.sipp.messages)).toEqual([
      '<- INVITE',
      '-> 100 INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '<- INVITE',
      '-> 488 INVITE',
      '<- ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [reinvite] = pick(out.sipp.messages, 'received', 'INVITE').slice(1);
    expect(mLine(reinvite!.body)).toMatch(/^m=image [1-9]\d* udptl t38$/);
    expectHungUpBySipp(out, 'fax over G.711 (T.38 refused: fell back).');
  });

  test('a far end that never answers is cancelled at the ring timeout', async () => {
    const out = await sendToSipp('send-uas-no-answer.xml', ['--timeout', '3']);
    expectPassed(out.sipp);
    expect(flowOf(out.sipp.messages)).toEqual([
      '<- INVITE',
      '-> 100 INVITE',
      '-> 180 INVITE',
      '<- CANCEL',
      '-> 200 CANCEL',
      '-> 487 INVITE',
      '<- ACK',
    ]);
    expect(out.status).toBe(1);
    expect(Number(out.variables.send_fax_result_code)).toBe(ResultCode.T0_EXPIRED);
    expect(out.log).toContain('nobody answered within the ring time (SIP 487');
  });

  test('a 407 challenge is answered with Proxy-Authorization carrying the right digest', async () => {
    const out = await sendToSipp('send-uas-407.xml', ['--auth', 'faxuser:faxpass', '--t38', 'off']);
    expectPassed(out.sipp);
    expect(flowOf(out.sipp.messages)).toEqual([
      '<- INVITE',
      '-> 407 INVITE',
      '<- ACK',
      '<- INVITE',
      '-> 100 INVITE',
      '-> 200 INVITE',
      '<- ACK',
      '-> BYE',
      '<- 200 BYE',
    ]);
    const [first, retry] = pick(out.sipp.messages, 'received', 'INVITE');
    expect(header(first!, 'Proxy-Authorization')).toBeUndefined();
    const value = header(retry!, 'Proxy-Authorization')!;
    const param = (name: string): string | undefined =>
      new RegExp(`[\\s,]${name}=(?:"([^"]*)"|([^\\s,]+))`)
        .exec(` ${value.slice('Digest'.length)}`)
        ?.slice(1)
        .find(Boolean);
    expect(value.startsWith('Digest ')).toBe(true);
    expect(param('username')).toBe('faxuser');
    expect(param('realm')).toBe('faxline.test');
    expect(param('nonce')).toBe('c2lwcC1ub25jZS0xMjM0NTY3ODkw');
    expect(param('qop')).toBe('auth');
    expect(param('nc')).toBe('00000001');
    // RFC 2617 section 3.2.2.1 with qop=auth, recomputed from what was sent.
    const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
    const ha1 = md5('faxuser:faxline.test:faxpass');
    const ha2 = md5(`INVITE:${param('uri')!}`);
    expect(param('response')).toBe(md5(`${ha1}:${param('nonce')!}:${param('nc')!}:${param('cnonce')!}:auth:${ha2}`));
    expect(Number(header(retry!, 'CSeq')!.split(' ')[0])).toBe(Number(header(first!, 'CSeq')!.split(' ')[0]) + 1);
    expect(out.status).toBe(1);
    expect(out.log).toContain('(the far end hung up (SIP BYE))');
  });
});
