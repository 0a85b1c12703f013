/**
 * A status_url receiver: prints each calling.call.fax event and checks its signature.
 *
 *   FAXLINE_CALLBACK_SECRET=s3cret npx ts-node examples/status-receiver.ts 8080
 *   FAXLINE_CALLBACK_SECRET=s3cret faxline send examples/sample.pdf \
 *       --status-url http://127.0.0.1:8080/fax --allow-private
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../lib';

const secret = process.env.FAXLINE_CALLBACK_SECRET;
const port = Number(process.argv[2] ?? 8080); // 0: any free port

const server = http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks); // verify the raw bytes, before parsing
      if (secret && !verifySignature(body, req.headers['x-faxline-signature'] as string | undefined, secret)) {
        res.writeHead(401).end();
        console.log('rejected: bad signature');
        return;
      }
      const event = JSON.parse(body.toString('utf8'));
      const fax = event.params.fax;
      console.log(`${new Date(event.timestamp * 1000).toISOString()} ${event.params.control_id} ${fax.type}`, fax.params);
      res.writeHead(204).end();
    });
  })
  .listen(port, '127.0.0.1', () =>
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
  );
