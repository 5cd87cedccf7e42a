#!/usr/bin/env bash
# Writes a SIPp injection file for test/interop/sipp/register.xml / register-auth.xml:
#   bench/users.sh N [PREFIX] [CONTACT_HOSTPORT] [DOMAIN] [PASSWORD] > users.csv
# Lines: USER;PASSWORD;CONTACT_HOSTPORT;DOMAIN;[authentication username=USER password=PASSWORD]
# (field4 is the digest-credentials keyword for register-auth.xml: SIPp 3.6 cannot nest
# [field0] inside [authentication ...] in a scenario, but it expands the keyword from an
# injection field.)
# Defaults: PREFIX=u  CONTACT_HOSTPORT=127.0.0.1:5091  DOMAIN=bench.local  PASSWORD=secret
set -euo pipefail
n=${1:?usage: users.sh N [PREFIX] [CONTACT_HOSTPORT] [DOMAIN] [PASSWORD]}
prefix=${2:-u}
contact=${3:-127.0.0.1:5091}
domain=${4:-bench.local}
password=${5:-secret}
echo SEQUENTIAL
awk -v n="$n" -v p="$prefix" -v c="$contact" -v d="$domain" -v pw="$password" \
  'BEGIN { for (i = 1; i <= n; i++) printf "%s%d;%s;%s;%s;[authentication username=%s%d password=%s]\n", p, i, pw, c, d, p, i, pw }'
