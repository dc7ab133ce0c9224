import { type AddressInfo, connect, type Socket } from 'node:net';
import { createNodeServer } from '../../src/cli/node-server.js';

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * One TCP connection to a server, written to byte for byte (no client-side URL normalisation, no
 * framing of its own) and read one whole response at a time: what a keep-alive client does, seen from
 * the socket, so a test can tell whether a second request really travelled on the same connection.
 */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    // A reset shows as the connection closing: the test reads that as `closed()`, not as a throw.
    socket.on('error', end);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((ready, fail) => {
      const socket = connect(port, host, () => ready(new RawConnection(socket)));
      socket.once('error', fail);
    });
  }

  write(bytes: string | Uint8Array): Promise<void> {
    return new Promise((done, fail) => this.socket.write(bytes, (error) => (error ? fail(error) : done())));
  }

  /** Half-closes: the client says it will send nothing more, and can still read the answer. */
  endWriting(): void {
    this.socket.end();
  }

  /** True once the server has closed (or reset) the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** The next whole response, or `null` when the connection closes (or `timeoutMs` passes) before one. */
  async response(timeoutMs = 5000): Promise<RawResponse | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.take();
      if (parsed) return parsed;
      if (this.ended || Date.now() >= deadline) return null;
      await new Promise<void>((woken) => {
        const timer = setTimeout(woken, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          woken();
        };
      });
      this.wake = undefined;
    }
  }

  /** Resolves once the server closes the connection, or with false after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(): RawResponse | null {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const [statusLine, ...lines] = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const rest = this.buffer.subarray(headEnd + 4);
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      let at = 0;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', at);
        if (lineEnd < 0) return null;
        const size = Number.parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
        if (rest.length < lineEnd + 2 + size + 2) return null;
        if (size === 0) {
          this.buffer = rest.subarray(lineEnd + 4);
          return { status, headers, body: Buffer.concat(chunks).toString('utf8') };
        }
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
    }
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < length) return null;
    this.buffer = rest.subarray(length);
    return { status, headers, body: rest.subarray(0, length).toString('utf8') };
  }
}

/** A request's bytes: the request line, `Host`, the given headers and the body as given (never framed here). */
export function requestBytes(
  method: string,
  target: string,
  headers: Record<string, string | number> = {},
  body = '',
): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The edge's Node server (createNodeServer) listening on a free port of 127.0.0.1; `close` ends it. */
export async function listenNode(
  fetch: Parameters<typeof createNodeServer>[0],
  bodyLimit = 1024 * 1024,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createNodeServer(fetch, { bodyLimit });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
