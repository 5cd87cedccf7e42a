/** Locates `test/vectors/` from compiled (dist/test/...) or source test files. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the project root (the directory holding package.json). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

/** Reads a file under test/vectors. */
export function readVector(rel: string): Buffer {
  return readFileSync(join(projectRoot(), 'test', 'vectors', rel));
}
