#!/bin/bash
# bench/run.sh - hikeshi throughput benchmarks (see bench/README.md).
#
# usage: bench/run.sh [BUILD_DIR] (default: build)
#
# Builds nothing: BUILD_DIR must hold hikeshi and bench/hikeshi-gen.
# Environment: RECORDS (default 1000000), SEED (1), CONNS (8), KEEP=1 keeps
# the temporary directory, NO_RSYSLOG=1 skips the rsyslog peer.
set -euo pipefail

BUILD=${1:-build}
RECORDS=${RECORDS:-1000000}
SEED=${SEED:-1}
CONNS=${CONNS:-8}
HIKESHI=$BUILD/hikeshi
GEN=$BUILD/bench/hikeshi-gen

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$GEN" ] || die "$GEN not found: build it first (ninja -C $BUILD bench/hikeshi-gen)"
command -v python3 >/dev/null || die "python3 is needed"
HAVE_HIKESHI=1
[ -x "$HIKESHI" ] || { HAVE_HIKESHI=0; echo "run.sh: $HIKESHI not found, hikeshi cases skipped" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-bench.XXXXXX")
# Run as root, the daemon drops to an unprivileged user that must still
# reach its data_dir here (mktemp makes the directory 0700).
chmod 755 "$TMP"
DAEMON_PID=
RSYSLOG_PID=
cleanup() {
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
    [ -n "$RSYSLOG_PID" ] && kill "$RSYSLOG_PID" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# measure NAME RECORDS BYTES CMD... : runs CMD (stdout to $TMP/NAME.out),
# prints one table row; wall time from python, peak RSS from /usr/bin/time
# when present, else from wait4()'s rusage (same number: the largest RSS of
# the process tree).
measure() {
    local name=$1 recs=$2 bytes=$3
    shift 3
    python3 - "$TMP" "$name" "$recs" "$bytes" "$@" <<'EOF'
import os, subprocess, sys, time
tmp, name, recs, nbytes, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
rssf = os.path.join(tmp, name + ".rss")
if os.access("/usr/bin/time", os.X_OK):
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rssf] + cmd
with open(os.path.join(tmp, name + ".out"), "wb") as out:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
rss = ru.ru_maxrss
if os.path.exists(rssf):
    try:
        rss = int(open(rssf).read().split()[-1])
    except (ValueError, IndexError):
        pass
# "@FILE": the size of FILE once the command is done (for the generator).
nbytes = os.path.getsize(nbytes[1:]) if nbytes.startswith("@") else int(nbytes)
code = os.waitstatus_to_exitcode(status)
note = "" if code == 0 else f"  (exit {code})"
print(f"{name:<34} {recs:>9} {dt:>8.3f} {recs/dt:>12,.0f} {nbytes/dt/1e6:>9.1f} {rss/1024:>9.1f}{note}")
with open(os.path.join(tmp, name + ".wall"), "w") as f:
    f.write(f"{dt}\n")
EOF
}

header() {
    printf '%-34s %9s %8s %12s %9s %9s\n' case records seconds records/s MB/s "RSS MB"
    printf '%-34s %9s %8s %12s %9s %9s\n' ---- ------- ------- --------- ---- ------
}

# Prints hikeshi's own summary (its clock, its RSS) under the row.
show_summary() {
    python3 - "$1" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print(f"{'':<4}(no summary JSON: {e})")
    sys.exit(0)
sec = s.get("seconds") or 0
rate = s["records"] / sec if sec else 0
print(f"{'':<4}hikeshi says: records={s.get('records')} decoded={s.get('decoded')} "
      f"unparsed={s.get('unparsed')} alerts={s.get('alerts')} seconds={sec:.3f} "
      f"({rate:,.0f}/s) max_rss_kb={s.get('max_rss_kb')}")
EOF
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    python3 - "$1" <<'EOF'
import socket, sys, time
end = time.time() + 20
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# send FILE PORT CONNS: the lines of FILE over CONNS parallel TCP connections
# (contiguous blocks, so each connection is in time order); prints seconds.
send_tcp() {
    python3 - "$1" "$2" "$3" <<'EOF'
import socket, sys, threading, time
path, port, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
cuts = [0]
for i in range(1, conns):
    j = data.find(b"\n", len(data) * i // conns)
    cuts.append(len(data) if j < 0 else j + 1)
cuts.append(len(data))
errors = []
def send(chunk):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        mv = memoryview(chunk)
        for off in range(0, len(mv), 1 << 18):
            s.sendall(mv[off:off + (1 << 18)])
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        try:
            while s.recv(4096):  # until the server closes its side
                pass
        except socket.timeout:
            pass
        s.close()
    except OSError as e:
        errors.append(e)
t0 = time.perf_counter()
th = [threading.Thread(target=send, args=(data[cuts[i]:cuts[i + 1]],)) for i in range(conns)]
for t in th: t.start()
for t in th: t.join()
print(f"{time.perf_counter() - t0:.6f}")
if errors:
    print(f"send errors: {errors[:3]}", file=sys.stderr)
    sys.exit(1)
EOF
}

count_events() {
    python3 - "$1" <<'EOF'
import sqlite3, sys
try:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    print(db.execute("select count(*) from events").fetchone()[0])
except sqlite3.Error as e:
    print(f"0  # {e}")
EOF
}

echo "hikeshi benchmark: $RECORDS records, seed $SEED, $(nproc) CPU(s), $(uname -sr)"
echo "temp dir: $TMP"
echo

# --- load ---
header
measure "generate (hikeshi-gen, file)" "$RECORDS" "@$TMP/load.log" \
    "$GEN" --seed "$SEED" --records "$RECORDS" -o "$TMP/load.log" --truth "$TMP/truth.json"
"$GEN" --seed "$SEED" --records "$RECORDS" --format syslog -o "$TMP/load.syslog"
gzip -c "$TMP/load.log" > "$TMP/load.log.gz"
BYTES=$(stat -c %s "$TMP/load.log")
SBYTES=$(stat -c %s "$TMP/load.syslog")

# --- peers: the floor ---
measure "peer: wc -l" "$RECORDS" "$BYTES" wc -l "$TMP/load.log"
measure "peer: gzip -dc | wc -l" "$RECORDS" "$BYTES" sh -c "gzip -dc '$TMP/load.log.gz' | wc -l"

if [ "$HAVE_HIKESHI" = 1 ]; then
    # --- (a) decode only, (b) whole pipeline ---
    measure "hikeshi scan --no-detect (plain)" "$RECORDS" "$BYTES" \
        "$HIKESHI" scan --no-detect --no-store --quiet --summary-json "$TMP/a.json" "$TMP/load.log"
    show_summary "$TMP/a.json"
    measure "hikeshi scan --no-detect (gzip)" "$RECORDS" "$BYTES" \
        "$HIKESHI" scan --no-detect --no-store --quiet --summary-json "$TMP/a2.json" "$TMP/load.log.gz"
    show_summary "$TMP/a2.json"
    measure "hikeshi scan (pipeline)" "$RECORDS" "$BYTES" \
        "$HIKESHI" scan --quiet --format jsonl --summary-json "$TMP/b.json" "$TMP/load.log"
    show_summary "$TMP/b.json"

    # --- (c) the daemon over TCP: without the archive, then with it (the
    # default: every record appended on receipt, synced every 200 ms), then
    # synced every record ---
    # run_daemon LABEL ARCHIVE_YAML
    run_daemon() {
    PORT=$(free_port)
    rm -rf "$TMP/var"
    mkdir -p "$TMP/var"
    cat > "$TMP/hikeshi.yaml" <<EOF
data_dir: $TMP/var
log:
  level: warn
http:
  listen: off
store:
  events: true
alerts:
  jsonl: alerts.jsonl
inputs:
  - name: bench-tcp
    type: syslog-tcp
    listen: 127.0.0.1:$PORT
$2
EOF
    if "$HIKESHI" run -n -c "$TMP/hikeshi.yaml" >/dev/null 2>"$TMP/check.err"; then
        # /usr/bin/time would not pass SIGTERM on, so a small supervisor
        # does: it forwards the signal and records the peak RSS (wait4).
        python3 - "$TMP/daemon.rss" "$HIKESHI" run -c "$TMP/hikeshi.yaml" \
            2>"$TMP/daemon.err" <<'EOF' &
import os, signal, subprocess, sys
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
signal.signal(signal.SIGTERM, lambda *_: p.send_signal(signal.SIGTERM))
while True:
    try:
        _, status, ru = os.wait4(p.pid, 0)
        break
    except InterruptedError:
        continue
open(sys.argv[1], "w").write(f"{ru.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))
EOF
        DAEMON_PID=$!
        if wait_port "$PORT"; then
            T1=$(date +%s.%N)
            SEND_S=$(send_tcp "$TMP/load.syslog" "$PORT" "$CONNS" || echo fail)
            # SIGTERM drains the queues and commits: its exit ends the clock.
            kill -TERM "$DAEMON_PID"
            wait "$DAEMON_PID" || echo "    daemon exit status $?"
            DAEMON_PID=
            T2=$(date +%s.%N)
            EVENTS=$(count_events "$TMP/var/hikeshi.db")
            ARCHIVED=-
            if [ -d "$TMP/var/archive" ]; then
                ARCHIVED=$("$HIKESHI" archive cat -c "$TMP/hikeshi.yaml" | wc -l)
                ARCHIVED="$ARCHIVED records, $(du -sk "$TMP/var/archive" | cut -f1) KiB on disk"
            fi
            python3 - "$RECORDS" "$SBYTES" "$EVENTS" "$T1" "$T2" "$SEND_S" "$TMP/daemon.rss" "$CONNS" "$1" "$ARCHIVED" <<'EOF'
import os, sys
recs, nbytes, events = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t1, t2, send, rssf, conns = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8]
label, archived = sys.argv[9], sys.argv[10]
ev = int(events.split()[0])
dt = t2 - t1
rss = "-"
if os.path.exists(rssf) and os.path.getsize(rssf):
    rss = f"{int(open(rssf).read().split()[-1]) / 1024:.1f}"
name = f"hikeshi run, TCP x{conns} -> {label}"
print(f"{name:<34} {ev:>9} {dt:>8.3f} {ev/dt:>12,.0f} {nbytes/dt/1e6:>9.1f} {rss:>9}")
print(f"    events in store: {events} of {recs} sent; sending took {send} s; "
      f"clock from first connect to daemon exit; archive: {archived}")
EOF
        else
            echo "hikeshi run: port $PORT never opened; see below" >&2
            cat "$TMP/daemon.err" >&2
        fi
    else
        echo "hikeshi run -n rejected the benchmark config:" >&2
        cat "$TMP/check.err" >&2
    fi
    }
    run_daemon "store" "archive:
  enabled: false"
    run_daemon "archive+store" "archive:
  enabled: true"
    run_daemon "archive/record+store" "archive:
  sync: every record"
fi

# --- peer: rsyslog imtcp -> omfile ---
if [ "${NO_RSYSLOG:-0}" != 1 ] && command -v rsyslogd >/dev/null; then
    RPORT=$(free_port)
    mkdir -p "$TMP/rs"
    cat > "$TMP/rsyslog.conf" <<EOF
global(workDirectory="$TMP/rs" maxMessageSize="64k")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$RPORT")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$TMP/rs/out.log" template="raw")
EOF
    rsyslogd -n -f "$TMP/rsyslog.conf" -i "$TMP/rs/rsyslogd.pid" 2>"$TMP/rsyslog.err" &
    RSYSLOG_PID=$!
    if wait_port "$RPORT"; then
        T1=$(date +%s.%N)
        SEND_S=$(send_tcp "$TMP/load.syslog" "$RPORT" "$CONNS" || echo fail)
        # omfile buffers: wait for every line to reach the file, then stop.
        python3 - "$TMP/rs/out.log" "$RECORDS" <<'EOF'
import os, sys, time
path, want = sys.argv[1], int(sys.argv[2])
end = time.time() + 300
while time.time() < end:
    try:
        with open(path, "rb") as f:
            if sum(c.count(b"\n") for c in iter(lambda: f.read(1 << 20), b"")) >= want:
                break
    except OSError:
        pass
    time.sleep(0.1)
EOF
        # Peak RSS of rsyslogd so far (it is not our child's child, so read /proc).
        RRSS=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$RSYSLOG_PID/status" 2>/dev/null || echo -)
        kill -TERM "$RSYSLOG_PID"
        wait "$RSYSLOG_PID" || true
        RSYSLOG_PID=
        T2=$(date +%s.%N)
        GOT=$(wc -l < "$TMP/rs/out.log" 2>/dev/null || echo 0)
        python3 - "$GOT" "$SBYTES" "$T1" "$T2" "$SEND_S" "$CONNS" "${RRSS:--}" <<'EOF'
import sys
got, nbytes, t1, t2, send, conns = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
rss = sys.argv[7] or "-"
dt = t2 - t1
name = f"peer: rsyslogd TCP x{conns} -> file"
print(f"{name:<34} {got:>9} {dt:>8.3f} {got/dt:>12,.0f} {nbytes/dt/1e6:>9.1f} {rss:>9}")
print(f"    lines in file: {got}; sending took {send} s; clock from first connect to all lines on disk (polled every 0.1 s)")
EOF
    else
        echo "rsyslogd did not open port $RPORT:" >&2
        cat "$TMP/rsyslog.err" >&2
        kill "$RSYSLOG_PID" 2>/dev/null || true
        RSYSLOG_PID=
    fi
else
    echo "(rsyslog peer skipped: rsyslogd not installed or NO_RSYSLOG=1)"
fi

# --- Correlation memory: a flood of distinct sources (bench/README.md) ---
if [ -x "$BUILD/bench/bench_corr" ]; then
    echo
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    BC=$(realpath "$BUILD/bench/bench_corr")
    for cap in 64m auto; do
        (cd "$ROOT" && BENCH_CAP=$cap "$BC") || echo "bench_corr ($cap) failed"
    done
fi

# --- Sigma matching: compiled rule set vs plain evaluator (bench/README.md) ---
if [ -x "$BUILD/bench/bench_sigma" ]; then
    echo
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    BS=$(realpath "$BUILD/bench/bench_sigma")
    G=$(realpath "$GEN")
    (cd "$ROOT" && HIKESHI_SHARED=${HIKESHI_SHARED:-$ROOT/../shared} "$BS" "$G") ||
        echo "bench_sigma failed"
fi
