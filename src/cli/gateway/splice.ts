/**
 * Pipes two byte streams into each other, half-close aware: the end of one side's input ends
 * the other side's output (and only that); the splice is over once both directions have
 * ended, or as soon as either side fails or closes outright.
 * @module
 */
import type { Duplex } from 'node:stream';

/** Grace after both directions ended before the sockets are destroyed, ms. */
const CLOSE_GRACE_MS = 2000;

/**
 * Splices `a` and `b`. `done` runs once, when both directions have ended or either side
 * closed or failed; both streams are then closed.
 */
export function splice(a: Duplex, b: Duplex, done: (why: string) => void): void {
  let finished = false;
  let ended = 0;
  const finish = (why: string): void => {
    if (finished) return;
    finished = true;
    for (const s of [a, b]) {
      if (s.destroyed) continue;
      s.end();
      const t = setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
      t.unref();
      s.once('close', () => clearTimeout(t));
    }
    done(why);
  };
  for (const s of [a, b]) {
    s.on('error', (e: Error) => {
      finish(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
      s.destroy();
    });
    s.once('end', () => {
      ended++;
      if (ended === 2) finish('both directions ended');
    });
    s.once('close', () => finish('closed'));
  }
  a.pipe(b);
  b.pipe(a);
}
