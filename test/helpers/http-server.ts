/** Local HTTP(S) servers for tests: on 127.0.0.1 at a free port, closed with their connections. */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

/** A server listening on 127.0.0.1. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` (`https:` for a TLS server), without a trailing slash. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Drops every open connection (keep-alive, hanging responses), then stops listening. */
  close(): Promise<void>;
}

/** Starts `server` listening on 127.0.0.1 at a free port. */
export async function listenLocal(server: http.Server | https.Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server on 127.0.0.1 answering every request with `handler`. */
export function serveHttp(handler: http.RequestListener): Promise<LocalServer> {
  return listenLocal(http.createServer(handler));
}

/** An HTTP server on 127.0.0.1 serving `routes` by path; anything else is `notFound` (default a bare 404). */
export function serveRoutes(
  routes: Record<string, http.RequestListener>,
  notFound: http.RequestListener = (_req, res) => res.writeHead(404).end(),
): Promise<LocalServer> {
  return serveHttp((req, res) => (routes[req.url ?? ''] ?? notFound)(req, res));
}
