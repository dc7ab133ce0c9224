import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type ErrorCode, errorMessage } from '../core/errors.js';
import { bodyCutOff } from '../edge/errors.js';

type FetchHandler = Parameters<typeof getRequestListener>[0];

/** A declared body larger than this is not read to the end before the 413; the connection is cut. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 30_000;

function errorJson(code: ErrorCode, message: string, field?: string): string {
  return JSON.stringify({ error: field ? { code, message, field } : { code, message } });
}

/**
 * The edge app on a Node HTTP server, with every error answered in the edge's JSON shape — including
 * the ones Node's HTTP parser raises before the app sees a request (a malformed request line, headers
 * too large), which Node would answer with an empty text/plain 400.
 *
 * A body declared larger than the limit is read to its end and thrown away before the app sends its
 * 413: closing the connection on a client still uploading makes it see a reset (and report OFFLINE)
 * where the truth is PAYLOAD_TOO_LARGE.
 */
export function createNodeServer(fetch: FetchHandler, options: { bodyLimit: number }): Server {
  const listener = getRequestListener(fetch, {
    errorHandler: (error) =>
      new Response(
        errorJson('VALIDATION', `request: the request could not be read (${errorMessage(error)})`, 'request'),
        { status: 400, headers: { 'content-type': 'application/json' } },
      ),
  });
  // The latest request on each connection: while it is not `complete` (its body still arriving), an
  // error of the parser belongs to that body, not to a request line it never received.
  const latest = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  const server = createServer((req, res) => {
    latest.set(req.socket, { req, res });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.bodyLimit) {
      refuseLargeBody(req, res, declared, () => void listener(req, res));
      return;
    }
    void listener(req, res);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    const current = latest.get(socket);
    if (current?.res.headersSent && (!current.req.complete || !current.res.writableFinished)) {
      // The app has answered this request or is answering it (a 401 before reading the body, an event
      // stream): a second answer would garble the first. Close once what it wrote has gone out.
      if (current.res.writableFinished) socket.end();
      else socket.destroy();
      return;
    }
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (current && !current.req.complete && !timeout) {
      // The connection ended inside a body: fewer bytes than its Content-Length, a chunked upload aborted.
      sendAndClose(socket, 400, 'Bad Request', JSON.stringify({ error: bodyCutOff().toJSON() }));
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : timeout ? 408 : 400;
    const reason = tooLarge ? 'Request Header Fields Too Large' : timeout ? 'Request Timeout' : 'Bad Request';
    const body = tooLarge
      ? errorJson('PAYLOAD_TOO_LARGE', 'headers: the request headers are too large', 'headers')
      : errorJson(
          'VALIDATION',
          `request: malformed HTTP request (${error.code ?? error.message})`,
          'request',
        );
    sendAndClose(socket, status, reason, body);
  });
  return server;
}

/** A JSON answer written straight to a connection the HTTP parser has given up on, which then closes. */
function sendAndClose(socket: Socket, status: number, reason: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Reads a body declared over the limit to its end, then lets the app answer: its 413 (from the declared
 * length, before it reads anything) carries the CORS headers a browser needs to see it and is logged
 * like any other answer. A body too large to read, or one that never ends, gets the answer at once and
 * its connection closed.
 */
function refuseLargeBody(
  req: IncomingMessage,
  res: ServerResponse,
  declared: number,
  answer: () => void,
): void {
  let answered = false;
  const answerOnce = () => {
    clearTimeout(timer);
    if (answered) return;
    answered = true;
    answer();
  };
  const timer = setTimeout(() => {
    res.setHeader('connection', 'close');
    answerOnce();
  }, DRAIN_TIMEOUT_MS);
  timer.unref();
  if (declared > MAX_DRAIN_BYTES) {
    res.setHeader('connection', 'close');
    answerOnce();
    return;
  }
  req.on('end', answerOnce);
  req.on('error', () => clearTimeout(timer));
  req.resume();
}
