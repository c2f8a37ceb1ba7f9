#!/usr/bin/env bash
# TURN relay load: the same scenarios against coturn and (when given) Parley's embedded TURN server, then a
# Parley/coturn ratio table. Build outside, run inside a loopback-only network namespace:
#
#   dotnet build -c Release bench/Parley.Bench.TurnLoad
#   unshare --net -- sh -c 'ip link set lo up && bench/Parley.Bench.TurnLoad/run-vs-coturn.sh'
#
# With Parley's server too (the flags are in the README, "Performance"):
#
#   unshare --net -- sh -c 'ip link set lo up && PARLEY_CMD="dotnet src/Parley.Server/bin/Release/net10.0/Parley.Server.dll --Turn:..." \
#       bench/Parley.Bench.TurnLoad/run-vs-coturn.sh'
#
# With PARLEY_CMD both servers run at once (coturn on COTURN_PORT) and every scenario runs against coturn and then
# Parley's server back to back, so that both meet the same load from the rest of a shared machine.
#
# Environment (all optional):
#   PARLEY_CMD   command line that starts Parley's server (its TURN port must be TURN_PORT, secret SECRET, realm REALM)
#   SCENARIOS    "transport allocations rate" triples separated by commas (default below); rate "max" = unthrottled
#   DURATION     measured seconds per scenario (default 10s); WARMUP (default 1s); SIZE payload bytes (default 1000)
#   SECRET, REALM, TURN_PORT (default 3478), RELAY_MIN_PORT/RELAY_MAX_PORT (default 50000-51999)
#   COTURN_PORT  coturn's port when Parley's server runs too (default TURN_PORT + 1; its relay ports follow
#                RELAY_MAX_PORT: 52000-53999 by default)
#   WARMUP_SCENARIOS  run against each server before the measured ones, results dropped (default below; "" for
#                none): the same for both, long enough for .NET's tiered JIT to be done with the relay paths
#   WARMUP_DURATION   per warm-up scenario (default 10s)
#   NICE         niceness for both servers and the tool alike (default 0; e.g. -10 on a machine others are loading)
#   REPEAT       measure the scenario list this many times (default 1); with PARLEY_CMD every other repeat runs Parley
#                first, and the comparison gives the median ratio over the repeats with its range
#   OUT          results directory (default a new /tmp/turnload.XXXXXX)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tool_dll=${TOOL_DLL:-$here/bin/Release/net10.0/Parley.Bench.TurnLoad.dll}
secret=${SECRET:-turnload-secret}
realm=${REALM:-parley.test}
turn_port=${TURN_PORT:-3478}
coturn_port=${COTURN_PORT:-$((turn_port + 1))}
relay_min=${RELAY_MIN_PORT:-50000}
relay_max=${RELAY_MAX_PORT:-51999}
duration=${DURATION:-10s}
warmup=${WARMUP:-1s}
size=${SIZE:-1000}
niceness=${NICE:-0}
scenarios=${SCENARIOS:-"udp 1 50,udp 10 50,udp 50 50,udp 200 50,udp 1 max,udp 10 max,tcp 10 50,tcp 1 max"}
warmup_scenarios=${WARMUP_SCENARIOS-"udp 10 max,tcp 2 max,udp 50 50"}
warmup_duration=${WARMUP_DURATION:-10s}
repeat=${REPEAT:-1}
out=${OUT:-$(mktemp -d /tmp/turnload.XXXXXX)}
mkdir -p "$out"

started_pids=()
cleanup() {
    for pid in "${started_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

die() { echo "run-vs-coturn: $*" >&2; exit 1; }

# Only inside a namespace with nothing but loopback: the servers relay to any loopback peer.
if ip -o link show | awk -F': ' '{print $2}' | grep -qv '^lo$'; then
    die "run me inside a loopback-only namespace: unshare --net -- sh -c 'ip link set lo up && $0'"
fi
[ -f "$tool_dll" ] || die "build first (outside the namespace): dotnet build -c Release bench/Parley.Bench.TurnLoad"
command -v turnserver >/dev/null || die "coturn's turnserver is not installed"

tool() { nice -n "$niceness" dotnet "$tool_dll" "$@"; }

# Stops a server we started, by PID: SIGTERM, then SIGKILL after five seconds.
stop_server() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Runs one scenario ("transport allocations rate") against the server on port $2 whose process is $3; the result is
# appended to $out/$1.jsonl, or dropped when $5 is "warm-up".
run_one() {
    local label=$1 port=$2 pid=$3 scenario=$4 mode=${5:-} transport allocations rate dur
    local json=()
    read -r transport allocations rate <<<"$scenario"
    dur=$duration
    if [ "$mode" = warm-up ]; then dur=$warmup_duration; else json=(--json-out "$out/$label.jsonl"); fi
    echo "== $label${mode:+ ($mode)}: $transport, $allocations allocations, rate $rate" >&2
    # Bounded: the tool stops itself after warm-up + duration + 120 s; timeout is a second fence.
    timeout 300 nice -n "$niceness" dotnet "$tool_dll" run --server "$transport://127.0.0.1:$port" \
        --secret "$secret" --realm "$realm" --allocations "$allocations" --rate "$rate" --size "$size" \
        --duration "$dur" --warmup "$warmup" --server-pid "$pid" --label "$label" "${json[@]}" >"$out/last-run.txt" 2>&1 \
        || { cat "$out/last-run.txt" >&2; echo "   ($label $scenario: the tool reported errors, see above)" >&2; }
    grep -aE '^ *(relayed|server) ' "$out/last-run.txt" >&2 || true
    kill -0 "$pid" 2>/dev/null || die "$label (pid $pid) died during '$scenario'"
}

# The warm-up scenarios against one server (JIT, pools, caches); results dropped.
warm_up() {
    local label=$1 port=$2 pid=$3 list scenario
    [ -n "$warmup_scenarios" ] || return 0
    IFS=',' read -ra list <<<"$warmup_scenarios"
    for scenario in "${list[@]}"; do
        run_one "$label" "$port" "$pid" "$scenario" warm-up
    done
}

# coturn with a generated configuration in its own temp directory (cf. shared/notes/browser-testing.md §6), on port
# $1 with relay ports $2-$3. Sets coturn_pid.
start_coturn() {
    local port=$1 min=$2 max=$3 dir="$out/coturn"
    mkdir -p "$dir"
    cat >"$dir/turnserver.conf" <<EOF
listening-ip=127.0.0.1
listening-port=$port
relay-ip=127.0.0.1
min-port=$min
max-port=$max
allow-loopback-peers
realm=$realm
fingerprint
use-auth-secret
static-auth-secret=$secret
no-tls
no-dtls
no-cli
pidfile=$dir/turnserver.pid
log-file=$dir/turnserver.log
simple-log
EOF
    nice -n "$niceness" turnserver -c "$dir/turnserver.conf" >"$dir/stdout.log" 2>&1 &
    coturn_pid=$!
    started_pids+=("$coturn_pid")
    tool probe --server "udp://127.0.0.1:$port" --timeout 10s || die "coturn does not answer on udp://127.0.0.1:$port"
}

# Parley's embedded TURN server: runs PARLEY_CMD as given. It must listen for TURN on 127.0.0.1:$TURN_PORT (UDP and
# TCP), relay on 127.0.0.1 in RELAY_MIN_PORT-RELAY_MAX_PORT, allow loopback peers and use $SECRET and $REALM; switch
# off what coturn does not do by default (MaxBandwidthBytesPerSecond=0). `dotnet x.dll` runs the server in that very
# process, so $! is the PID whose CPU time and RSS are measured. Sets parley_pid.
start_parley() {
    local dir="$out/parley"
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # the command line is given as one string on purpose
    SECRET="$secret" REALM="$realm" TURN_PORT="$turn_port" nice -n "$niceness" $PARLEY_CMD >"$dir/stdout.log" 2>&1 &
    parley_pid=$!
    started_pids+=("$parley_pid")
    tool probe --server "udp://127.0.0.1:$turn_port" --timeout 20s || die "Parley does not answer on udp://127.0.0.1:$turn_port"
}

echo "results in $out (load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)" >&2
IFS=',' read -ra measured <<<"$scenarios"
if [ -n "${PARLEY_CMD:-}" ]; then
    start_coturn "$coturn_port" $((relay_max + 1)) $((relay_max + 2000))
    start_parley
    warm_up coturn "$coturn_port" "$coturn_pid"
    warm_up parley "$turn_port" "$parley_pid"
    for round in $(seq "$repeat"); do
        for scenario in "${measured[@]}"; do
            if [ $((round % 2)) -eq 1 ]; then
                run_one coturn "$coturn_port" "$coturn_pid" "$scenario"
                run_one parley "$turn_port" "$parley_pid" "$scenario"
            else
                run_one parley "$turn_port" "$parley_pid" "$scenario"
                run_one coturn "$coturn_port" "$coturn_pid" "$scenario"
            fi
        done
    done
    stop_server "$parley_pid"
    stop_server "$coturn_pid"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    echo
    echo "## coturn $(turnserver --version 2>/dev/null | head -1)"
    tool report "$out/coturn.jsonl"
    echo
    echo "## Parley"
    tool report "$out/parley.jsonl"
    echo
    echo "## Parley / coturn"
    tool compare "$out/coturn.jsonl" "$out/parley.jsonl"
else
    start_coturn "$turn_port" "$relay_min" "$relay_max"
    warm_up coturn "$turn_port" "$coturn_pid"
    for _ in $(seq "$repeat"); do
        for scenario in "${measured[@]}"; do
            run_one coturn "$turn_port" "$coturn_pid" "$scenario"
        done
    done
    stop_server "$coturn_pid"
    echo
    echo "## coturn $(turnserver --version 2>/dev/null | head -1)"
    tool report "$out/coturn.jsonl"
    echo
    echo "(PARLEY_CMD not set: Parley's server was not measured; see start_parley in $0)"
fi
