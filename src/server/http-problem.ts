/**
 * Response helpers shared by the HTTP endpoint and the admin API: JSON bodies and RFC 9457
 * `application/problem+json` errors.
 * @module
 */
import type { ServerResponse } from 'node:http';

/** RFC 9457 problem details; `extra` adds extension members (RFC 9457 §3.2), e.g. a list of problems. */
export function problem(res: ServerResponse, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ type: 'about:blank', title, status, detail, ...extra });
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A JSON response that is never cached (it may describe live state). */
export function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
