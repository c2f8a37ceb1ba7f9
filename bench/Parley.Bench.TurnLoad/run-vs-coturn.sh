#!/usr/bin/env bash
# TURN relay load: the same scenarios against coturn and (when given) Parley's embedded TURN server, then a
# Parley/coturn ratio table. Build outside, run inside a loopback-only network namespace:
#
#   dotnet build -c Release bench/Parley.Bench.TurnLoad
#   unshare --net -- sh -c 'ip link set lo up && bench/Parley.Bench.TurnLoad/run-vs-coturn.sh'
#
# With Parley's server too (the exact --Turn:* flags are the TURN server's to define; see start_parley below):
#
#   unshare --net -- sh -c 'ip link set lo up && PARLEY_CMD="dotnet src/Parley.Server/bin/Release/net10.0/Parley.Server.dll --Turn:..." \
#       bench/Parley.Bench.TurnLoad/run-vs-coturn.sh'
#
# Environment (all optional):
#   PARLEY_CMD   command line that starts Parley's server (its TURN port must be TURN_PORT, secret SECRET, realm REALM)
#   SCENARIOS    "transport allocations rate" triples separated by commas (default below); rate "max" = unthrottled
#   DURATION     measured seconds per scenario (default 10s); WARMUP (default 1s); SIZE payload bytes (default 1000)
#   SECRET, REALM, TURN_PORT (default 3478), RELAY_MIN_PORT/RELAY_MAX_PORT (default 50000-51999)
#   NICE         niceness for both servers and the tool alike (default 0; e.g. -10 on a machine others are loading)
#   OUT          results directory (default a new /tmp/turnload.XXXXXX)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tool_dll=${TOOL_DLL:-$here/bin/Release/net10.0/Parley.Bench.TurnLoad.dll}
secret=${SECRET:-turnload-secret}
realm=${REALM:-parley.test}
turn_port=${TURN_PORT:-3478}
relay_min=${RELAY_MIN_PORT:-50000}
relay_max=${RELAY_MAX_PORT:-51999}
duration=${DURATION:-10s}
warmup=${WARMUP:-1s}
size=${SIZE:-1000}
niceness=${NICE:-0}
scenarios=${SCENARIOS:-"udp 1 50,udp 10 50,udp 50 50,udp 200 50,udp 1 max,udp 10 max,tcp 10 50,tcp 1 max"}
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

# Runs every scenario against the server listening on TURN_PORT whose process is $2; results go to $out/$1.jsonl.
run_scenarios() {
    local label=$1 pid=$2 transport allocations rate
    tool probe --server "udp://127.0.0.1:$turn_port" --timeout 10s || die "$label does not answer on udp://127.0.0.1:$turn_port"
    IFS=',' read -ra list <<<"$scenarios"
    for scenario in "${list[@]}"; do
        read -r transport allocations rate <<<"$scenario"
        echo "== $label: $transport, $allocations allocations, rate $rate" >&2
        # Bounded: the tool stops itself after warm-up + duration + 120 s; timeout is a second fence.
        timeout 300 nice -n "$niceness" dotnet "$tool_dll" run --server "$transport://127.0.0.1:$turn_port" \
            --secret "$secret" --realm "$realm" --allocations "$allocations" --rate "$rate" --size "$size" \
            --duration "$duration" --warmup "$warmup" --server-pid "$pid" --label "$label" \
            --json-out "$out/$label.jsonl" || echo "   ($label $scenario: the tool reported errors, see above)" >&2
        kill -0 "$pid" 2>/dev/null || die "$label (pid $pid) died during '$scenario'"
    done
}

# coturn with a generated configuration in its own temp directory (cf. shared/notes/browser-testing.md §6).
measure_coturn() {
    local dir="$out/coturn"
    mkdir -p "$dir"
    cat >"$dir/turnserver.conf" <<EOF
listening-ip=127.0.0.1
listening-port=$turn_port
relay-ip=127.0.0.1
min-port=$relay_min
max-port=$relay_max
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
    local pid=$!
    started_pids+=("$pid")
    run_scenarios coturn "$pid"
    stop_server "$pid"
}

# ---------------------------------------------------------------------------------------------------------------
# HOOK: Parley's embedded TURN server. Called with the full command line (PARLEY_CMD), e.g.
#   dotnet src/Parley.Server/bin/Release/net10.0/Parley.Server.dll --Turn:... (flags defined by the TURN server)
# It must listen for TURN on 127.0.0.1:$TURN_PORT (UDP and TCP), relay on 127.0.0.1, accept loopback peers and use
# the same shared secret ($SECRET) and realm ($REALM); `dotnet x.dll` runs the server in that very process, so $!
# is the PID whose CPU time and RSS are measured. Adjust only this function when the flags are known.
#
# DRAFT, unverified, from src/Parley.Turn/TurnOptions.cs as it stood on 2026-11-21 (the TURN engineer has the final
# word). Settings that differ from coturn's defaults and would skew the comparison are switched off:
#   PARLEY_CMD="dotnet src/Parley.Server/bin/Release/net10.0/Parley.Server.dll \
#     --Turn:SharedSecrets:0=turnload-secret --Turn:Realm=parley.test --Turn:ListenAddresses:0=127.0.0.1 \
#     --Turn:UdpPort=3478 --Turn:TcpPort=3478 --Turn:RelayAddresses:0=127.0.0.1 \
#     --Turn:MinRelayPort=50000 --Turn:MaxRelayPort=51999 --Turn:AllowedPeerRanges:0=127.0.0.0/8 \
#     --Turn:MaxBandwidthBytesPerSecond=0 --Turn:MaxAllocations=10000 --Turn:FailedAuthLimit=100000"
#   (MaxBandwidthBytesPerSecond defaults to 10 Mbit/s per allocation, which would cap the unthrottled scenarios;
#   every allocation has its own user id, so MaxAllocationsPerUser does not apply; FailedAuthLimit only matters
#   if the server counts the 401 challenge of 200 Allocates from 127.0.0.1 as failures.)
# ---------------------------------------------------------------------------------------------------------------
measure_parley() {
    local dir="$out/parley"
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # the command line is given as one string on purpose
    SECRET="$secret" REALM="$realm" TURN_PORT="$turn_port" nice -n "$niceness" $PARLEY_CMD >"$dir/stdout.log" 2>&1 &
    local pid=$!
    started_pids+=("$pid")
    run_scenarios parley "$pid"
    stop_server "$pid"
}

echo "results in $out (load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)" >&2
measure_coturn
echo
echo "## coturn $(turnserver --version 2>/dev/null | head -1)"
tool report "$out/coturn.jsonl"

if [ -n "${PARLEY_CMD:-}" ]; then
    measure_parley
    echo
    echo "## Parley"
    tool report "$out/parley.jsonl"
    echo
    echo "## Parley / coturn"
    tool compare "$out/coturn.jsonl" "$out/parley.jsonl"
else
    echo
    echo "(PARLEY_CMD not set: Parley's server was not measured; see measure_parley in $0)"
fi
