/**
 * Randomness, injected. Branches, tags, Call-IDs, nonces and serial numbers all come from a
 * {@link Random}; the default is the operating system's CSPRNG (ARCHITECTURE.md rule 3).
 * @module
 */
import { randomBytes } from 'node:crypto';

/** A source of random bytes. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

const POOL_SIZE = 4096;

/**
 * The CSPRNG-backed default. Draws from a pooled buffer refilled with `crypto.randomBytes`
 * so the hot path (a branch per forwarded request) does not make a syscall each time.
 */
export function createCryptoRandom(): Random {
  let pool = randomBytes(POOL_SIZE);
  let off = 0;
  return {
    bytes(n: number): Buffer {
      if (n > POOL_SIZE / 4) return randomBytes(n);
      if (off + n > POOL_SIZE) {
        pool = randomBytes(POOL_SIZE);
        off = 0;
      }
      const out = Buffer.from(pool.subarray(off, off + n));
      off += n;
      return out;
    },
  };
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random token of `len` characters from `[0-9a-z]` (token-safe in every SIP position). */
export function randomToken(random: Random, len: number): string {
  const b = random.bytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[b[i]! % 36];
  return s;
}

/**
 * A deterministic Random for tests: a counter hashed with SHA-256 would be overkill; this is a
 * xorshift stream seeded by the caller. Never use it outside tests.
 */
export function createSeededRandom(seed = 1): Random {
  let x = seed >>> 0 || 1;
  return {
    bytes(n: number): Buffer {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x ^= x << 13; x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5; x >>>= 0;
        out[i] = x & 0xff;
      }
      return out;
    },
  };
}
