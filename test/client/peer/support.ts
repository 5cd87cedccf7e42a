/**
 * Helpers for the data-channel tests: payload echo over a Duplex, a free port, waiting for a
 * socket to close, and an ordinary TLS endpoint that does not follow Sipher's rules.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DataChannelError, type DataChannelFailure } from '../../../src/client/peer/index.js';

/** Resolves with exactly `n` bytes read from `s` (fails on more, or on end before). */
export function collect(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', reject);
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      total += d.length;
      if (total >= n) {
        done();
        if (total > n) reject(new Error(`read ${total} bytes, expected ${n}`));
        else resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = (): void => {
      done();
      reject(new Error(`stream ended after ${total} of ${n} bytes`));
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', reject);
  });
}

/** `echoer` sends back what it reads while `sender` sends `payload`; resolves with what came back. */
export async function echoRoundTrip(sender: Duplex, echoer: Duplex, payload: Buffer): Promise<Buffer> {
  const echo = (d: Buffer): void => {
    echoer.write(d);
  };
  echoer.on('data', echo);
  try {
    const back = collect(sender, payload.length);
    sender.write(payload);
    return await back;
  } finally {
    echoer.off('data', echo);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves when `s` closes; `hadData` says whether any byte arrived first. */
export function closed(s: Socket): Promise<{ hadData: boolean }> {
  return new Promise((resolve) => {
    let hadData = false;
    s.on('data', () => {
      hadData = true;
    });
    s.on('error', () => {});
    s.once('close', () => resolve({ hadData }));
  });
}

/** Asserts `p` rejects with a {@link DataChannelError} of one of `reasons`; returns it. */
export async function rejectsWith(p: Promise<unknown>, ...reasons: DataChannelFailure[]): Promise<DataChannelError> {
  let err: unknown;
  await assert.rejects(p, (e: unknown) => {
    err = e;
    return true;
  });
  assert.ok(err instanceof DataChannelError, `expected DataChannelError, got ${String(err)}`);
  assert.ok(reasons.includes(err.reason), `reason ${err.reason} (${err.message}), expected ${reasons.join(' or ')}`);
  return err;
}

/** Lets pending socket events run (a few event-loop turns). */
export function settle(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
