#!/usr/bin/env node
// Entry point of the `sipher` command: runs the compiled CLI (npm run build first).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`sipher: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
);
