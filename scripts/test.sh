#!/usr/bin/env bash
# The whole test suite: Debian peers, build (type-check), lint, import cycles, then every test
# (unit, vectors, integration on real sockets, interop with SIPp/baresip, store contract on
# SQLite and PostgreSQL). Under CI=true a missing interop peer is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run --silent build
npm run --silent lint
npm run --silent cycles
mkdir -p test-artifacts
files=$(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-reporter=spec $files
