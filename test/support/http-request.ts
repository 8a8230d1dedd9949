/**
 * Test support: one HTTP(S) request on a fresh connection, optionally from
 * another loopback address (127.0.0.2, ...: Linux routes all of 127.0.0.0/8
 * to lo), which is how tests play several clients on one machine. An event
 * stream is read only up to its first event.
 */
import { once } from 'node:events';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  /** Local address to send from (default 127.0.0.1). */
  readonly from?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export async function httpRequest(url: string, pathAndQuery: string, options: HttpRequestOptions = {}): Promise<HttpReply> {
  const target = new URL(url);
  const outgoing = request({
    host: target.hostname,
    port: target.port,
    path: pathAndQuery,
    method: options.method ?? 'GET',
    headers: options.headers,
    localAddress: options.from ?? '127.0.0.1',
    agent: false,
  });
  outgoing.setTimeout(10_000, () => outgoing.destroy(new Error(`no answer to ${pathAndQuery} within 10 s`)));
  outgoing.end(options.body);
  const [response] = (await once(outgoing, 'response')) as [IncomingMessage];
  const eventStream = String(response.headers['content-type'] ?? '').startsWith('text/event-stream');
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response as AsyncIterable<string>) {
    body += chunk;
    if (eventStream && body.includes('\n\n')) break;
  }
  response.destroy();
  return { status: response.statusCode ?? 0, headers: response.headers, body };
}

/** The `error.code` of a JSON error reply, if it is one. */
export function errorCodeOf(reply: HttpReply): string | undefined {
  try {
    return (JSON.parse(reply.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
