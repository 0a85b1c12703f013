/**
 * baresip as the G.711-only SIP phone that knows nothing of T.38: it answers faxline's call,
 * refuses the T.38 re-INVITE, and the fax goes on in G.711 (fell back). baresip carries no fax
 * (it plays a tone), so this checks signalling and the fallback, then hangs baresip up.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResultCode } from '../../lib';
import { SipEndpoint } from '../../lib/sip';
import { parseVariables, writeShortDocument } from '../helpers/cli-peers';
import { tempDir } from '../helpers/pages';
import { freeUdpPorts, startBaresip, startSend, stopSipTools, type Baresip } from '../helpers/sip-tools';

/** baresip logs this when a re-INVITE offers nothing it carries (m=image only); it then answers 488. */
const REFUSED = /call: reinvite: could not decode SDP offer/g;
/** The caller asks for T.38 2 s after its fax starts; a refusal comes well within this. */
const REFUSAL_BOUND_MS = 20_000;

let tmp: ReturnType<typeof tempDir>;
let document: string;
let baresip: Baresip;

beforeAll(async () => {
  tmp = tempDir();
  document = writeShortDocument(tmp.dir, 1, { firstSeed: 61, name: 'one.tif' }).file;
  const [sip, rtp] = await freeUdpPorts(2);
  baresip = await startBaresip({ dir: path.join(tmp.dir, 'phone'), port: sip!, rtpPort: rtp! });
}, 60_000);

afterAll(async () => {
  await stopSipTools();
  tmp?.cleanup();
});

/** Waits until baresip refused one more T.38 re-INVITE, lets the G.711 call run 2 s, and hangs up. */
async function hangUpAfterRefusal(): Promise<void> {
  const n = [...baresip.process.log.matchAll(REFUSED)].length + 1;
  await baresip.process.waitForLog(new RegExp(`(?:${REFUSED.source}[^]*?){${n}}`), REFUSAL_BOUND_MS, `refusal ${n}`);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  baresip.hangUp();
}

describe('faxline against baresip, a G.711-only phone', () => {
  test('faxline send --t38 prefer: the T.38 re-INVITE is refused and the fax falls back to G.711', async () => {
    const send = startSend([document, '--to', `sip:fax@127.0.0.1:${baresip.port}`, '--t38', 'prefer']);
    await hangUpAfterRefusal();
    const status = await send.exited;
    const variables = parseVariables(send.log);
    // Failed only because baresip carries no fax: it hung up on a call that was still in G.711.
    expect(status).toBe(1);
    expect(Number(variables.send_fax_result_code)).toBe(ResultCode.CALL_DROPPED);
    expect(send.log).toContain('status 200; fax over G.711 (T.38 refused: fell back).');
    expect(send.log).toContain('(the far end hung up (SIP BYE))');
  });

  test('SipEndpoint.sendFax: baresip answers the T.38 re-INVITE 488; transport g711, fellBack true', async () => {
    const notes: string[] = [];
    const endpoint = new SipEndpoint({ listen: 'udp:127.0.0.1:0', t38: 'prefer', log: (m) => notes.push(m) });
    await endpoint.start();
    try {
      const [outcome] = await Promise.all([
        endpoint.sendFax({
          to: `sip:fax@127.0.0.1:${baresip.port}`,
          document: pathToFileURL(document).href,
          allowFiles: true,
        }),
        hangUpAfterRefusal(),
      ]);
      expect(outcome.result.code).toBe(ResultCode.CALL_DROPPED);
      expect(outcome.transport).toBe('g711');
      expect(outcome.fellBack).toBe(true);
      expect(outcome.sip.status).toBe(200);
      expect(notes.join('\n')).toMatch(
        /T\.38 not taken \(the far end refused T\.38 \(SIP 488\)\); the fax goes on in G\.711/,
      );
    } finally {
      await endpoint.close();
    }
  });
});
