#!/usr/bin/env bash
# Measures GatewayTLS alone with TLSRoundTrip (see main.swift beside this file):
#   1. server-side instructions per round trip, TLS 1.3 and 1.2 (callgrind, difference of two
#      run lengths so that the handshake and warm-up cancel out);
#   2. RSS per idle keep-alive TLS connection (idle-server + bench/idle_connections.py).
#
#   Benchmarks/TLSRoundTrip/measure.sh [BINARY] [IDLE_CONNECTIONS]
#
# BINARY defaults to the release build of the TLSRoundTrip product. Needs valgrind and python3.
# Instruction counts are stable on a busy machine; the RSS figure needs no other load test on
# loopback (check `pgrep wrk`).
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${1:-"$(swift build -c release --show-bin-path)/TLSRoundTrip"}
idle=${2:-2000}
work=$(mktemp -d /tmp/tls-roundtrip.XXXXXX)
trap 'rm -rf "$work"' EXIT

# valgrind 3.19 cannot read Swift 6.3's DWARF 5: measure a copy without debug info.
cp "$binary" "$work/TLSRoundTrip"
strip --strip-debug "$work/TLSRoundTrip"

instructions() { # label [args...]
    local label=$1; shift
    local counts=()
    for n in 5000 15000; do
        valgrind --tool=callgrind --toggle-collect='*serverSideStep*' \
            --callgrind-out-file="$work/$label.$n.out" "$work/TLSRoundTrip" roundtrip "$n" "$@" \
            >/dev/null 2>"$work/$label.$n.log"
        counts+=("$(awk '/^(summary|totals):/ {print $2; exit}' "$work/$label.$n.out")")
    done
    echo "$label: $(( (counts[1] - counts[0]) / 10000 )) server instructions per round trip"
}
instructions "TLS 1.3"
instructions "TLS 1.2" --tls12

ulimit -n 65536 2>/dev/null || true
"$work/TLSRoundTrip" idle-server 0 600 >"$work/server.out" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" && break; sleep 0.1; done
port=$(awk '/listening/ {print $2}' "$work/server.out")
# A few connections first, so that the loop's first-use allocations are not counted.
python3 bench/idle_connections.py "$port" 20 >"$work/warm.out" &
warm=$!
for _ in $(seq 100); do grep -q ready "$work/warm.out" && break; sleep 0.1; done
kill "$warm"; wait "$warm" 2>/dev/null || true
sleep 1.5
before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
python3 bench/idle_connections.py "$port" "$idle" >"$work/hold.out" &
holder=$!
for _ in $(seq 600); do grep -q ready "$work/hold.out" && break; sleep 0.1; done
sleep 1.5
after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
opened=$(awk '/ready/ {print $2}' "$work/hold.out")
kill "$holder" "$server"; wait "$holder" "$server" 2>/dev/null || true
python3 -c "print(f'idle keep-alive TLS connections: {($after - $before) / $opened:.2f} KB RSS each ({$opened} connections)')"
