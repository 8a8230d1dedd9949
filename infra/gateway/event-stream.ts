/**
 * A Server-Sent Events stream on a plain HTTP response: what the gateway's
 * live endpoints (/admin/games/events, /playground/events) share. The stream
 * sends a comment every 15 s while idle, so proxies keep it open, and stops
 * listening for changes once either side closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Sends one event: its data as JSON, under an event name or as a plain message. */
export type SendEvent = (data: unknown, eventName?: string) => void;

/** How often an idle event stream sends a comment, so proxies keep it open. */
const KEEPALIVE_MS = 15_000;

/**
 * Answers `request` with an event stream. `start` sends what it wants to send
 * first, subscribes to what it streams, and returns how to unsubscribe.
 */
export function openEventStream(request: IncomingMessage, response: ServerResponse, start: (send: SendEvent) => () => void): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send: SendEvent = (data, eventName) => {
    response.write(`${eventName === undefined ? '' : `event: ${eventName}\n`}data: ${JSON.stringify(data)}\n\n`);
  };
  const unsubscribe = start(send);
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const stop = () => {
    clearInterval(keepalive);
    unsubscribe();
  };
  request.once('close', stop);
  response.once('close', stop);
}
