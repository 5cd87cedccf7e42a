/**
 * Loads a JSON vector file from `test/vectors/`, whether the test runs from source (tsx) or
 * compiled under `dist/` (the vectors are not copied by tsc): walks up to the package root.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Reads and parses `test/vectors/<rel>` from the package root. */
export function loadVectors<T>(rel: string): T {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'vectors', rel);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) {
      return JSON.parse(readFileSync(candidate, 'utf8')) as T;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`test vectors not found: ${rel}`);
    dir = up;
  }
}
