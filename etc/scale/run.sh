#!/bin/sh
# etc/scale/run.sh [HIKESHI] - the three-node example of docs/scale.md on
# one machine's loopback: a NATS JetStream cluster of three nats-server
# processes, one hikeshi collector (syslog over TCP on 127.0.0.1:5514,
# /metrics on 127.0.0.1:8083) and two analysers (API and console on
# 127.0.0.1:8081 and :8082).
#
# Run from the top of the source tree (the analysers read ./rules); data
# and logs go to var/scale/.  Send logs, e.g.
#   logger --tcp -n 127.0.0.1 -P 5514 "sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2"
# Ctrl-C (or SIGTERM) stops the hikeshi processes first (the analysers give
# back their leases, the collector publishes what it holds), then NATS.
# Needs nats-server (Debian package nats-server).
set -eu
HIKESHI=${1:-build/hikeshi}
HERE=$(dirname "$0")
command -v nats-server >/dev/null || { echo "run.sh: nats-server is not installed" >&2; exit 1; }
[ -x "$HIKESHI" ] || { echo "run.sh: $HIKESHI: no hikeshi binary (build first, or name it)" >&2; exit 1; }
mkdir -p var/scale
natspids=""
hikpids=""
stop() {
    trap - INT TERM EXIT
    for p in $hikpids; do kill "$p" 2>/dev/null || true; done
    for p in $hikpids; do wait "$p" 2>/dev/null || true; done
    for p in $natspids; do kill "$p" 2>/dev/null || true; done
    for p in $natspids; do wait "$p" 2>/dev/null || true; done
}
trap stop INT TERM EXIT
for i in 1 2 3; do
    nats-server -c "$HERE/n$i.conf" >>"var/scale/nats$i.log" 2>&1 &
    natspids="$natspids $!"
done
sleep 2 # the hikeshi nodes retry until NATS answers; this only spares log lines
for n in analyser1 analyser2 collector; do
    "$HIKESHI" run -c "$HERE/$n.yaml" >>"var/scale/$n.log" 2>&1 &
    hikpids="$hikpids $!"
done
echo "run.sh: NATS on 127.0.0.1:4222-4224, collector on 127.0.0.1:5514/tcp (/metrics on :8083), analysers' API on 127.0.0.1:8081 and :8082; logs in var/scale/*.log; Ctrl-C stops"
wait
