#!/usr/bin/env bash
# Writes a SIPp injection file for test/interop/sipp/uac-call.xml:
#   bench/callees.sh K [DOMAIN] [PREFIX] > callees.csv
# Lines: PREFIX1;DOMAIN ... PREFIXK;DOMAIN (SIPp cycles through them sequentially).
set -euo pipefail
k=${1:?usage: callees.sh K [DOMAIN] [PREFIX]}
domain=${2:-bench.local}
prefix=${3:-callee}
echo SEQUENTIAL
awk -v k="$k" -v p="$prefix" -v d="$domain" 'BEGIN { for (i = 1; i <= k; i++) printf "%s%d;%s\n", p, i, d }'
