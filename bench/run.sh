#!/usr/bin/env bash
# Sipher vs Kamailio benchmark (SPEC §4): REGISTER throughput (no auth) and call setup rate
# (INVITE/100/180/200/ACK/BYE/200 through the record-routing proxy), measured with SIPp on
# loopback, both systems in the same run. Invoked by `npm run bench` (build first), or
# directly: bash bench/run.sh
#
# For each system (Kamailio, then Sipher), started fresh on its own port:
#   (a) REGISTER ramp: SIPp sends REGISTERs (a pool of BENCH_USERS distinct users, cycled in
#       order) at a target rate for BENCH_STEP_SECS per step; the rate grows by BENCH_FACTOR
#       per step. A step is clean when every REGISTER got its 200, with 0 failed calls and
#       0 retransmissions. The ramp stops at the first unclean step (after BENCH_ATTEMPTS
#       tries) or when the achieved rate falls below 80% of the target ("saturated"); then
#       BENCH_REFINE bisection steps between the last clean and the first unclean rate.
#   (b) Call ramp: BENCH_CALLEES users registered with their Contact at a SIPp UAS, then a
#       SIPp UAC calls them through the proxy, same ramp rules (UAS counters count too).
# The clean maximum is the highest *achieved* rate (successful calls / elapsed) of a clean
# step. Results: a table on stdout, a dated section appended to bench/RESULTS.md, raw SIPp
# statistics under bench/out/<timestamp>/.
#
# Environment (all optional):
#   BENCH_ONLY=kamailio|sipher   run one system only
#   BENCH_QUICK=1                short steps (2 s), faster ramp, for smoke runs
#   BENCH_TESTS=register,calls   which tests to run (default both)
#   BENCH_STEP_SECS  BENCH_MAX_STEPS  BENCH_FACTOR  BENCH_REG_START  BENCH_CALL_START
#   BENCH_USERS (REGISTER user pool)  BENCH_CALLEES  BENCH_CALL_MS (call length, default 0)
#   BENCH_ATTEMPTS (tries per step, default 2)  BENCH_REFINE (bisection steps after the first
#   unclean step, default 2)  BENCH_MAX_PER_STEP (message cap per step)
#   BENCH_SETTLE_SECS (pause between steps)  BENCH_SIPP_BUFF (SIPp socket buffer bytes)
#   BENCH_NO_RESULTS=1  do not append to RESULTS.md;  BENCH_RESULTS=FILE  append elsewhere
#   BENCH_LABEL="text"  extra label for the RESULTS.md section heading
#   KAM_CHILDREN (UDP workers, default 4)  KAM_SHM_MB  KAM_PKG_MB
#   BENCH_KAM_PORT=5090 BENCH_SIPHER_PORT=5070 BENCH_REG_UAC_PORT=5091 BENCH_UAS_PORT=5092
#   BENCH_CALL_UAC_PORT=5094  BENCH_DOMAIN=bench.local
#   SIPHER_START_TIMEOUT (s, default 30)
#   BENCH_QUIET_PCT (default 30) BENCH_QUIET_WAIT (s, default 120): before each step wait, at
#     most BENCH_QUIET_WAIT s, until the rest of the machine uses < BENCH_QUIET_PCT % of one
#     core (other builds/tests skew results); 0 disables the wait.
#   BENCH_NOISY_PCT (default 50) BENCH_NOISE_RETRIES (default 4): a step that is not clean
#     while other processes used > BENCH_NOISY_PCT % of a core is "disturbed" and repeated
#     without counting as an attempt (at most BENCH_NOISE_RETRIES times per ramp).
#   BENCH_NICE (default -10 as root, else 0): nice value for the servers and SIPp, so that
#     background jobs on a shared machine disturb the measurement less (same for both).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
SCEN=$ROOT/test/interop/sipp
LIB=$BENCH/lib

DOMAIN=${BENCH_DOMAIN:-bench.local}
KAM_PORT=${BENCH_KAM_PORT:-5090}
SIPHER_PORT=${BENCH_SIPHER_PORT:-5070}
REG_UAC_PORT=${BENCH_REG_UAC_PORT:-5091}
UAS_PORT=${BENCH_UAS_PORT:-5092}
CALL_UAC_PORT=${BENCH_CALL_UAC_PORT:-5094}
KAM_CHILDREN=${KAM_CHILDREN:-4}
KAM_SHM_MB=${KAM_SHM_MB:-1024}
KAM_PKG_MB=${KAM_PKG_MB:-32}
SIPHER_START_TIMEOUT=${SIPHER_START_TIMEOUT:-30}

if [[ "${BENCH_QUICK:-0}" == "1" ]]; then
  d_step=2 d_max=8 d_factor=1.5 d_reg=2000 d_call=200 d_users=10000
else
  d_step=10 d_max=25 d_factor=1.25 d_reg=1000 d_call=200 d_users=50000
fi
STEP_SECS=${BENCH_STEP_SECS:-$d_step}
MAX_STEPS=${BENCH_MAX_STEPS:-$d_max}
FACTOR=${BENCH_FACTOR:-$d_factor}
REG_START=${BENCH_REG_START:-$d_reg}
CALL_START=${BENCH_CALL_START:-$d_call}
USERS=${BENCH_USERS:-$d_users}
CALLEES=${BENCH_CALLEES:-100}
CALL_MS=${BENCH_CALL_MS:-0}
ATTEMPTS=${BENCH_ATTEMPTS:-2}
REFINE=${BENCH_REFINE:-2}
MAX_PER_STEP=${BENCH_MAX_PER_STEP:-400000}
SETTLE=${BENCH_SETTLE_SECS:-2}
SIPP_BUFF=${BENCH_SIPP_BUFF:-4194304}
QUIET_PCT=${BENCH_QUIET_PCT:-30}
NOISY_PCT=${BENCH_NOISY_PCT:-50}
NOISE_RETRIES=${BENCH_NOISE_RETRIES:-4}
if [[ $(id -u) == 0 ]]; then NICE=${BENCH_NICE:--10}; else NICE=${BENCH_NICE:-0}; fi
QUIET_WAIT=${BENCH_QUIET_WAIT:-120}
TESTS=${BENCH_TESTS:-register,calls}
ONLY=${BENCH_ONLY:-}

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$BENCH/out/$STAMP
mkdir -p "$OUT"
STEPS_TSV=$OUT/steps.tsv
SYSTEMS_TSV=$OUT/systems.tsv
printf 'system\ttest\tstep\tattempt\ttarget\tcount\tstatus\tachieved\tsent\tok\tfailed\tretrans\telapsed\tsrv_cpu\tsipp_cpu\tother_cpu\tudp_drops\tnote\n' >"$STEPS_TSV"
printf 'system\tstate\tdetail\n' >"$SYSTEMS_TSV"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- process management
# Every background process is started in its own session/process group (setsid), so that
# stopping it also stops its children (Kamailio forks its workers).
PGIDS=()

start_group() { # start_group OUTFILE ERRFILE CMD... ; sets STARTED_PID
  local out=$1 err=$2
  shift 2
  setsid nice -n "$NICE" "$@" >"$out" 2>"$err" </dev/null &
  STARTED_PID=$!
  PGIDS+=("$STARTED_PID")
  # `setsid` creates the process group inside the child: until it has run, `kill -0 -PGID`
  # fails and the system would look dead. Wait (bounded) for the group to exist.
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$STARTED_PID" 2>/dev/null && return 0
    kill -0 "$STARTED_PID" 2>/dev/null || return 0
    sleep 0.02
  done
}

group_alive() { kill -0 -- "-$1" 2>/dev/null; }

stop_group() { # stop_group PGID [SIGNAL]
  local pg=$1 sig=${2:-TERM} i
  group_alive "$pg" || return 0
  kill "-$sig" -- "-$pg" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    group_alive "$pg" || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pg" 2>/dev/null
  for ((i = 0; i < 20; i++)); do
    group_alive "$pg" || return 0
    sleep 0.1
  done
  log "warning: process group $pg did not exit"
}

cleanup() {
  local pg
  for pg in "${PGIDS[@]}"; do stop_group "$pg"; done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# Processes of earlier runs still holding our ports: only our own kinds (kamailio, sipp,
# node), found by socket owner, stopped by pid.
kill_strays() {
  local port pid comm pids=()
  for port in "$@"; do
    while read -r pid; do
      [[ -n "$pid" ]] && pids+=("$pid")
    done < <(ss -H -uanp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2
             ss -H -tanp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2)
  done
  for pid in $(printf '%s\n' "${pids[@]}" | sort -u); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    case "$comm" in
      kamailio | sipp | node)
        log "stopping stray $comm (pid $pid) from a previous run"
        kill -TERM "$pid" 2>/dev/null
        ;;
      *) log "warning: port in use by $comm (pid $pid), not ours: left alone" ;;
    esac
  done
  if ((${#pids[@]})); then sleep 1; fi
  for pid in $(printf '%s\n' "${pids[@]}" | sort -u); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    case "$comm" in kamailio | sipp | node) kill -KILL "$pid" 2>/dev/null ;; esac
  done
}

port_free() { # port_free PORT: no UDP socket bound to it
  [[ -z "$(ss -H -uan "sport = :$1" 2>/dev/null)" ]]
}

wait_port_free() { # wait_port_free PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_free "$1" && return 0
    sleep 0.1
  done
  return 1
}

# CPU ticks (user+system, 1/CLK_TCK s) of all processes in a process group.
group_cpu_ticks() {
  local pg=$1
  cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^.*) //' |
    awk -v pg="$pg" '$3 == pg { t += $12 + $13 } END { print t + 0 }'
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Busy CPU ticks of the whole machine (all cores), to estimate load from other processes.
# Machine-wide UDP datagrams dropped for a full receive buffer (kernel counter).
udp_rcvbuf_errors() { awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6; exit }' /proc/net/snmp; }

# user + nice + system + steal (irq/softirq left out: loopback packet handling of our own traffic).
machine_busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $9; exit }' /proc/stat; }

now_s() { date +%s.%N; }

# Keeps raw logs small: a file over 2 MB is cut to its first 1 MB and last 256 KB (SIPp error
# logs of an overloaded step, or server logs, can reach hundreds of MB).
trim_log() {
  local f size
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    size=$(stat -c %s "$f" 2>/dev/null || echo 0)
    ((size > 2097152)) || continue
    { head -c 1048576 "$f"; printf '\n[... %s bytes cut by bench/run.sh ...]\n' "$size"; tail -c 262144 "$f"; } >"$f.trim" &&
      mv "$f.trim" "$f"
  done
}

# ---------------------------------------------------------------- systems
SYS_PG=""   # process group of the system under test
SYS_PORT=""

start_kamailio() {
  local dir=$OUT/kamailio
  mkdir -p "$dir/run"
  if ! command -v kamailio >/dev/null; then
    printf 'kamailio\tfailed\tkamailio not installed\n' >>"$SYSTEMS_TSV"
    return 1
  fi
  start_group "$dir/stdout.log" "$dir/stderr.log" kamailio -f "$BENCH/kamailio/kamailio.cfg" \
    -DD -E -n "$KAM_CHILDREN" -m "$KAM_SHM_MB" -M "$KAM_PKG_MB" -Y "$dir/run" \
    -l "udp:127.0.0.1:$KAM_PORT" -l "tcp:127.0.0.1:$KAM_PORT" -A "BENCH_DOMAIN=\"$DOMAIN\""
  SYS_PG=$STARTED_PID
  SYS_PORT=$KAM_PORT
  local up=0 i
  for ((i = 0; i < 20; i++)); do
    group_alive "$SYS_PG" || break
    if node "$LIB/sip-ping.mjs" 127.0.0.1 "$KAM_PORT" 1000 >"$dir/ping.log" 2>&1; then up=1; break; fi
  done
  if ((!up)) || ! group_alive "$SYS_PG"; then
    log "kamailio did not start (see $dir/stderr.log)"
    tail -5 "$dir/stderr.log" >&2
    printf 'kamailio\tfailed\tdid not answer OPTIONS within 20 s (exited or hung; see stderr.log)\n' >>"$SYSTEMS_TSV"
    stop_group "$SYS_PG"
    return 1
  fi
  log "kamailio up on udp:127.0.0.1:$KAM_PORT ($KAM_CHILDREN UDP workers, pid $SYS_PG)"
  printf 'kamailio\tok\t%s UDP workers\n' "$KAM_CHILDREN" >>"$SYSTEMS_TSV"
}

start_sipher() {
  local dir=$OUT/sipher i line
  mkdir -p "$dir/data"
  if [[ ! -f "$ROOT/bin/sipher.js" || ! -f "$ROOT/dist/src/cli/main.js" ]]; then
    log "sipher: server CLI not built (dist/src/cli/main.js missing); run npm run build"
    printf 'sipher\tfailed\tserver CLI not built (dist/src/cli/main.js missing)\n' >>"$SYSTEMS_TSV"
    return 1
  fi
  start_group "$dir/stdout.log" "$dir/stderr.log" node "$ROOT/bin/sipher.js" server \
    --data-dir "$dir/data" --domain "$DOMAIN" \
    --listen "udp:127.0.0.1:$SIPHER_PORT" --listen "tcp:127.0.0.1:$SIPHER_PORT" --no-auth
  SYS_PG=$STARTED_PID
  SYS_PORT=$SIPHER_PORT
  line="listening udp 127.0.0.1:$SIPHER_PORT"
  for ((i = 0; i < SIPHER_START_TIMEOUT * 10; i++)); do
    grep -qF "$line" "$dir/stdout.log" 2>/dev/null && break
    group_alive "$SYS_PG" || break
    sleep 0.1
  done
  if ! grep -qF "$line" "$dir/stdout.log" 2>/dev/null; then
    log "sipher did not start: no '$line' on stdout within ${SIPHER_START_TIMEOUT} s (see $dir/)"
    tail -5 "$dir/stderr.log" >&2
    printf 'sipher\tfailed\tno "%s" on stdout (exited, or not within %s s; see stderr.log)\n' "$line" "$SIPHER_START_TIMEOUT" >>"$SYSTEMS_TSV"
    stop_group "$SYS_PG"
    return 1
  fi
  if ! node "$LIB/sip-ping.mjs" 127.0.0.1 "$SIPHER_PORT" 5000 >"$dir/ping.log" 2>&1; then
    log "warning: sipher does not answer OPTIONS; continuing"
  fi
  log "sipher up on udp:127.0.0.1:$SIPHER_PORT (pid $SYS_PG)"
  printf 'sipher\tok\tsingle Node process\n' >>"$SYSTEMS_TSV"
}

stop_system() {
  [[ -n "$SYS_PG" ]] && stop_group "$SYS_PG"
  trim_log "$OUT"/*/stdout.log "$OUT"/*/stderr.log
  [[ -n "$SYS_PORT" ]] && { wait_port_free "$SYS_PORT" 10 || log "warning: port $SYS_PORT still bound"; }
  SYS_PG="" SYS_PORT=""
}

# ---------------------------------------------------------------- SIPp runs
# run_sipp_uac LOGPREFIX STATFILE RATE COUNT SCENARIO INF LOCALPORT [extra sipp args...]
# Runs a SIPp client in the foreground, bounded by its own -timeout and by timeout(1).
# Sets SIPP_RC.
run_sipp_uac() {
  local prefix=$1 stat=$2 rate=$3 count=$4 scen=$5 inf=$6 lport=$7
  shift 7
  local limit=$(( (count + rate - 1) / rate + 40 ))
  wait_port_free "$lport" 10 || log "warning: SIPp port $lport still bound"
  local TIMEFORMAT='%R %U %S'
  {
    time {
      timeout -k 5 $((limit + 15)) nice -n "$NICE" sipp -sf "$scen" -inf "$inf" "127.0.0.1:$SYS_PORT" \
        -i 127.0.0.1 -p "$lport" -bind_local -t u1 \
        -r "$rate" -rp 1000 -m "$count" -timeout "${limit}s" \
        -buff_size "$SIPP_BUFF" -nostdin -trace_stat -stf "$stat" -fd 1 \
        -trace_err -error_file "$prefix.errors.log" -trace_screen -screen_file "$prefix.screen" \
        "$@" >/dev/null 2>"$prefix.stderr"
      SIPP_RC=$?
    }
  } 2>"$prefix.time"
  # CPU use of the SIPp client over its run (user+sys / wall), in % of one core.
  SIPP_CPU=$(awk '{ if ($1 > 0) printf "%.0f", ($2 + $3) / $1 * 100; else print 0 }' "$prefix.time" 2>/dev/null)
  trim_log "$prefix.errors.log" "$prefix.stderr"
}

# Verdict of one step from the SIPp statistics, recorded in steps.tsv; sets STEP_STATUS and
# STEP_ACHIEVED. step_record SYSTEM TEST STEP ATTEMPT TARGET COUNT UACCSV UASCSV|- CPUPCT SIPPCPU OTHERCPU
# (CPU figures in % of one core: the system's whole process group; the SIPp client[+UAS];
# everything else on the machine during the step - background noise).
step_record() {
  local sys=$1 test=$2 step=$3 attempt=$4 target=$5 count=$6 uac=$7 uas=$8 cpu=$9 scpu=${10} ocpu=${11} drops=${12} v
  local args=(--target "$target" --count "$count" --uac "$uac" --uac-rc "$SIPP_RC")
  [[ "$uas" != "-" ]] && args+=(--uas "$uas")
  v=$(node "$LIB/sipp-stats.mjs" "${args[@]}")
  [[ -z "$v" ]] && v=$'error\t0\t0\t0\t0\t0\t0\tstatistics parser failed'
  IFS=$'\t' read -r STEP_STATUS STEP_ACHIEVED _ <<<"$v"
  local note=${v##*$'\t'} rest=${v%$'\t'*}
  STEP_DISTURBED=0
  if [[ "$STEP_STATUS" != clean ]] && ((${ocpu:-0} > NOISY_PCT)); then
    STEP_DISTURBED=1
    note="disturbed (other processes ${ocpu}% CPU); $note"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$test" "$step" "$attempt" "$target" "$count" \
    "$rest" "$cpu" "$scpu" "$ocpu" "$drops" "$note" >>"$STEPS_TSV"
  log "$sys $test step $step.$attempt: target $target/s x $count -> $STEP_STATUS, achieved $STEP_ACHIEVED/s, CPU server $cpu% SIPp $scpu% other $ocpu%, UDP drops $drops ($note)"
}

next_rate() { awk -v r="$1" -v f="$FACTOR" 'BEGIN { n = int(r * f + 0.999); if (n <= r) n = r + 1; print n }'; }
step_count() { awk -v r="$1" -v s="$STEP_SECS" -v m="$MAX_PER_STEP" 'BEGIN { n = int(r * s); if (n > m) n = m; if (n < 1) n = 1; print n }'; }

other_pct() { # other_pct MACHINE_TICKS0 MACHINE_TICKS1 T0 T1 SERVER_PCT SIPP_PCT
  awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" -v s="$5" -v p="$6" -v hz="$CLK_TCK" \
    'BEGIN { d = t1 - t0; if (d <= 0) { print 0; exit } o = (b - a) / hz / d * 100 - s - p; if (o < 0) o = 0; printf "%.0f", o }'
}

# Waits (bounded) until processes other than the system under test use < QUIET_PCT % of a core.
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local start=$SECONDS m0 m1 c0 c1 pct
  while true; do
    m0=$(machine_busy_ticks) c0=$(group_cpu_ticks "${SYS_PG:-0}")
    sleep 1
    m1=$(machine_busy_ticks) c1=$(group_cpu_ticks "${SYS_PG:-0}")
    pct=$(( (m1 - m0 - (c1 - c0)) * 100 / CLK_TCK ))
    ((pct < QUIET_PCT)) && return 0
    if ((SECONDS - start >= QUIET_WAIT)); then
      log "warning: machine still busy (${pct}% of a core used by other processes); going on"
      return 0
    fi
    ((SECONDS - start < 2)) && log "machine busy (${pct}% of a core used by other processes); waiting up to ${QUIET_WAIT} s"
  done
}

cpu_pct() { # cpu_pct TICKS0 TICKS1 T0 T1
  awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$4" -v hz="$CLK_TCK" \
    'BEGIN { d = t1 - t0; if (d <= 0) { print 0; exit } printf "%.0f", (b - a) / hz / d * 100 }'
}

# ---------------------------------------------------------------- one attempt of a step
# register_attempt SYS DIR PREFIX STEP ATTEMPT RATE COUNT
register_attempt() {
  local sys=$1 dir=$2 p=$3 step=$4 attempt=$5 rate=$6 count=$7 c0 c1 m0 m1 d0 d1 t0 t1 cpu
  c0=$(group_cpu_ticks "$SYS_PG") m0=$(machine_busy_ticks) d0=$(udp_rcvbuf_errors) t0=$(now_s)
  run_sipp_uac "$p" "$p.csv" "$rate" "$count" "$SCEN/register.xml" "$dir/users.csv" "$REG_UAC_PORT"
  c1=$(group_cpu_ticks "$SYS_PG") m1=$(machine_busy_ticks) d1=$(udp_rcvbuf_errors) t1=$(now_s)
  cpu=$(cpu_pct "$c0" "$c1" "$t0" "$t1")
  step_record "$sys" register "$step" "$attempt" "$rate" "$count" "$p.csv" - "$cpu" "$SIPP_CPU" \
    "$(other_pct "$m0" "$m1" "$t0" "$t1" "$cpu" "$SIPP_CPU")" "$((d1 - d0))"
}

UAS_PG=""
start_uas() { # start_uas PREFIX
  local p=$1 i
  wait_port_free "$UAS_PORT" 10 || log "warning: UAS port $UAS_PORT still bound"
  start_group "$p.uas.stdout" "$p.uas.stderr" sipp -sf "$SCEN/uas.xml" -i 127.0.0.1 -p "$UAS_PORT" \
    -bind_local -t u1 -buff_size "$SIPP_BUFF" -nostdin -trace_stat -stf "$p.uas.csv" -fd 1 \
    -trace_err -error_file "$p.uas.errors.log" -trace_screen -screen_file "$p.uas.screen"
  UAS_PG=$STARTED_PID
  for ((i = 0; i < 50; i++)); do
    port_free "$UAS_PORT" || return 0
    group_alive "$UAS_PG" || break
    sleep 0.1
  done
  log "SIPp UAS did not bind udp:127.0.0.1:$UAS_PORT (see $p.uas.stderr)"
  return 1
}

stop_uas() {
  [[ -z "$UAS_PG" ]] && return 0
  # USR1: soft exit (finish ongoing calls, dump final statistics); then TERM/KILL if stuck.
  kill -USR1 -- "-$UAS_PG" 2>/dev/null
  local i
  for ((i = 0; i < 100; i++)); do
    group_alive "$UAS_PG" || break
    sleep 0.1
  done
  stop_group "$UAS_PG"
  UAS_PG=""
  trim_log "$OUT"/*/calls/*.uas.errors.log
}

# calls_attempt SYS DIR PREFIX STEP ATTEMPT RATE COUNT
calls_attempt() {
  local sys=$1 dir=$2 p=$3 step=$4 attempt=$5 rate=$6 count=$7 c0 c1 u0 u1 m0 m1 d0 d1 t0 t1 cpu ucpu
  if ! start_uas "$p"; then
    stop_uas
    return 1
  fi
  c0=$(group_cpu_ticks "$SYS_PG") u0=$(group_cpu_ticks "$UAS_PG") m0=$(machine_busy_ticks) d0=$(udp_rcvbuf_errors) t0=$(now_s)
  run_sipp_uac "$p" "$p.csv" "$rate" "$count" "$SCEN/uac-call.xml" "$dir/callees.csv" "$CALL_UAC_PORT" -d "$CALL_MS"
  c1=$(group_cpu_ticks "$SYS_PG") u1=$(group_cpu_ticks "$UAS_PG") m1=$(machine_busy_ticks) d1=$(udp_rcvbuf_errors) t1=$(now_s)
  stop_uas
  cpu=$(cpu_pct "$c0" "$c1" "$t0" "$t1")
  ucpu=$(cpu_pct "$u0" "$u1" "$t0" "$t1")
  step_record "$sys" calls "$step" "$attempt" "$rate" "$count" "$p.csv" "$p.uas.csv" "$cpu" \
    "$SIPP_CPU+$ucpu" "$(other_pct "$m0" "$m1" "$t0" "$t1" "$cpu" "$((SIPP_CPU + ucpu))")" "$((d1 - d0))"
}

# ---------------------------------------------------------------- ramp
NOISE=0
# run_step SYS TEST STEP RATE: up to ATTEMPTS attempts (disturbed ones repeated, bounded);
# leaves STEP_STATUS of the last attempt. Returns 1 if the system died or SIPp could not run.
run_step() {
  local sys=$1 test=$2 step=$3 rate=$4 dir=$OUT/$1/$2 count attempt
  count=$(step_count "$rate")
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    if ! group_alive "$SYS_PG"; then
      log "$sys is not running any more"
      STEP_STATUS=error
      return 1
    fi
    wait_quiet
    "${test}_attempt" "$sys" "$dir" "$dir/s${step}a${attempt}n${NOISE}" "$step" "$attempt" "$rate" "$count" ||
      { STEP_STATUS=error; return 1; }
    sleep "$SETTLE"
    [[ "$STEP_STATUS" == clean || "$STEP_STATUS" == saturated ]] && return 0
    if ((STEP_DISTURBED && NOISE < NOISE_RETRIES)); then
      NOISE=$((NOISE + 1)) attempt=$((attempt - 1))
      log "step disturbed by background load: repeating it (${NOISE}/${NOISE_RETRIES})"
    fi
  done
  return 0
}

# ramp SYS TEST START_RATE: geometric ramp until the first step that stays unclean, then
# REFINE bisection steps between the last clean and the first unclean rate.
ramp() {
  local sys=$1 test=$2 rate=$3 step=0 ok=0 fail=0 mid r
  NOISE=0
  while ((step < MAX_STEPS)); do
    step=$((step + 1))
    run_step "$sys" "$test" "$step" "$rate" || return 1
    case "$STEP_STATUS" in
      clean) ok=$rate rate=$(next_rate "$rate") ;;
      saturated) return 0 ;;
      *) fail=$rate; break ;;
    esac
  done
  ((ok > 0 && fail > 0)) || return 0
  for ((r = 1; r <= REFINE; r++)); do
    mid=$(( (ok + fail) / 2 ))
    # Stop when the bracket is already narrower than 4% of the clean rate.
    (( (fail - ok) * 100 < ok * 4 )) && break
    step=$((step + 1))
    log "$sys $test: refining between $ok/s (clean) and $fail/s (unclean): $mid/s"
    run_step "$sys" "$test" "$step" "$mid" || return 1
    case "$STEP_STATUS" in
      clean) ok=$mid ;;
      saturated) break ;;
      *) fail=$mid ;;
    esac
  done
}

# ---------------------------------------------------------------- (a) REGISTER
register_test() {
  local sys=$1 dir=$OUT/$1/register
  mkdir -p "$dir"
  bash "$BENCH/users.sh" "$USERS" u "127.0.0.1:$REG_UAC_PORT" "$DOMAIN" >"$dir/users.csv"
  ramp "$sys" register "$REG_START"
}

# ---------------------------------------------------------------- (b) calls
calls_test() {
  local sys=$1 dir=$OUT/$1/calls v
  mkdir -p "$dir"
  # Register the callees with their Contact at the SIPp UAS.
  bash "$BENCH/users.sh" "$CALLEES" callee "127.0.0.1:$UAS_PORT" "$DOMAIN" >"$dir/callees-reg.csv"
  bash "$BENCH/callees.sh" "$CALLEES" "$DOMAIN" callee >"$dir/callees.csv"
  run_sipp_uac "$dir/prereg" "$dir/prereg.csv" 500 "$CALLEES" "$SCEN/register.xml" "$dir/callees-reg.csv" "$REG_UAC_PORT"
  v=$(node "$LIB/sipp-stats.mjs" --target 1 --count "$CALLEES" --uac "$dir/prereg.csv" --uac-rc "$SIPP_RC")
  if [[ "${v%%$'\t'*}" != clean && "${v%%$'\t'*}" != saturated ]]; then
    log "$sys: pre-registration of $CALLEES callees failed: $v"
    printf '%s\tcalls\t0\t1\t500\t%s\t%s\t-\t-\t-\t-\tpre-registration failed\n' "$sys" "$CALLEES" "${v%$'\t'*}" >>"$STEPS_TSV"
    return 1
  fi
  sleep 1
  ramp "$sys" calls "$CALL_START"
}

# ---------------------------------------------------------------- main
for tool in sipp node ss setsid timeout awk; do
  command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 2; }
done

SYSTEMS=()
case "$ONLY" in
  "") SYSTEMS=(kamailio sipher) ;;
  kamailio | sipher) SYSTEMS=("$ONLY") ;;
  *) log "BENCH_ONLY must be kamailio or sipher"; exit 2 ;;
esac

log "output in $OUT"
kill_strays "$KAM_PORT" "$SIPHER_PORT" "$REG_UAC_PORT" "$UAS_PORT" "$CALL_UAC_PORT"

for sys in "${SYSTEMS[@]}"; do
  log "=== $sys"
  if ! "start_$sys"; then continue; fi
  [[ ",$TESTS," == *",register,"* ]] && register_test "$sys"
  if group_alive "$SYS_PG" && [[ ",$TESTS," == *",calls,"* ]]; then
    calls_test "$sys"
  fi
  if ! group_alive "$SYS_PG"; then
    log "$sys exited during the benchmark (see $OUT/$sys/stderr.log)"
    printf '%s\tdied\texited during the benchmark\n' "$sys" >>"$SYSTEMS_TSV"
  fi
  stop_system
done

# ---------------------------------------------------------------- report
sipp_version=$(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1 | sed 's/\.$//')
kam_version=$(kamailio -v 2>&1 | head -1 | sed 's/^version: //; s/ *$//')
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
report_args=(
  --steps "$STEPS_TSV" --systems "$SYSTEMS_TSV"
  --command "$(env | grep -E '^(BENCH_|KAM_|SIPHER_)[A-Z_]*=' | grep -v -E '^BENCH_(COMMAND|LABEL)=' | sort |
    while IFS='=' read -r k val; do printf '%s=%q ' "$k" "$val"; done)${BENCH_COMMAND:-npm run bench}"
  --machine "nproc $(nproc), $cpu_model, $(uname -sr), node $(node -v), $sipp_version, $kam_version"
  --config "nice ${NICE}; quiet gate <${QUIET_PCT}% (max wait ${QUIET_WAIT} s), disturbed steps (other >${NOISY_PCT}%) repeated up to ${NOISE_RETRIES}x; step ${STEP_SECS} s (max ${MAX_PER_STEP} msgs), x${FACTOR}/step from REGISTER ${REG_START}/s and calls ${CALL_START}/s, max ${MAX_STEPS} steps + ${REFINE} bisection steps, ${ATTEMPTS} attempt(s)/step; ${USERS} REGISTER users (cycled), ${CALLEES} callees, call length ${CALL_MS} ms; Kamailio ${KAM_CHILDREN} UDP workers, shm ${KAM_SHM_MB} MB; SIPp buffers ${SIPP_BUFF} B; raw data bench/out/${STAMP}"
  --label "${BENCH_LABEL:-}"
)
if [[ "${BENCH_NO_RESULTS:-0}" != "1" ]]; then
  report_args+=(--append "${BENCH_RESULTS:-$BENCH/RESULTS.md}")
fi
node "$LIB/report.mjs" "${report_args[@]}"
