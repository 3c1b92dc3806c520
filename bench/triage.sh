#!/bin/sh
# bench/triage.sh BUILD [RECORDS...] - detection, correlation and triage
# over the generator's day: for each size (default 1000000 and 10000000)
# generate the log with its ground truth, run `hikeshi scan` with the
# bundled rules, and print throughput, peak RSS, the funnel (records ->
# alerts -> aggregated alerts -> incidents) and the score against the
# ground truth (bench/score-incidents.py); before each row, the scan's wall
# clock and peak RSS as a process next to the floor (wc -l, grep -c over
# the same file).  Works in a temporary directory,
# removed at the end (KEEP=1 keeps it).  Run from the source root.
set -eu
build=${1:?usage: bench/triage.sh BUILD [RECORDS...]}
shift
sizes=${*:-1000000 10000000}
seed=${SEED:-1}
tmp=$(mktemp -d /tmp/hikeshi-triage-XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
# GEN_OPTS (e.g. "--hard --last-year") goes to the generator.
gen_opts=${GEN_OPTS:-}
# wall_rss CMD...: prints "SECONDS RSS_KB EXIT" of CMD; the peak RSS from
# /usr/bin/time -f %M (package time) when installed, else from wait4()'s
# rusage (which then counts the forked python before exec, ~13 MB, as a
# floor).  Its output goes to a file, not /dev/null: GNU grep stops at the
# first match when it sees /dev/null, even with -c.
wall_rss() {
    python3 - "$tmp/wall.out" "$@" <<'PY'
import os, subprocess, sys, time
out = open(sys.argv[1], "wb")
cmd, rssf = sys.argv[2:], sys.argv[1] + ".rss"
if os.access("/usr/bin/time", os.X_OK):
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rssf] + cmd
t0 = time.perf_counter()
p = subprocess.Popen(cmd, stdout=out)
_, status, ru = os.wait4(p.pid, 0)
dt = time.perf_counter() - t0
rss = ru.ru_maxrss
try:
    rss = int(open(rssf).read().split()[-1])
except (OSError, ValueError, IndexError):
    pass
print("%.3f %d %d" % (dt, rss, os.waitstatus_to_exitcode(status)))
PY
}
echo "records  seconds  records/s  peak_rss_MB  alerts  aggregated  incidents  corr_hits  corr_evicted  corr_KB  precision  recall  typed  merged"
for n in $sizes; do
    # shellcheck disable=SC2086
    "$build/bench/hikeshi-gen" --records "$n" --seed "$seed" $gen_opts -o "$tmp/day.log" --truth "$tmp/truth.json"
    # The floor, over the same file (in the page cache after the first):
    # counting lines, and a grep that reads every byte of every line.
    cat "$tmp/day.log" > /dev/null
    # shellcheck disable=SC2046 # split into seconds, RSS, exit status
    set -- $(wall_rss wc -l "$tmp/day.log")
    floor_wc="wc -l: $1 s, $(python3 -c "print(round($n / $1))") records/s, $(($2 / 1024)) MB"
    # shellcheck disable=SC2046 # split into seconds, RSS, exit status
    set -- $(wall_rss grep -c 'Failed password' "$tmp/day.log")
    floor_grep="grep -c 'Failed password': $1 s, $(python3 -c "print(round($n / $1))") records/s, $(($2 / 1024)) MB"
    # shellcheck disable=SC2046 # split into seconds, RSS, exit status
    set -- $(wall_rss "$build/hikeshi" scan -q --no-progress -f jsonl --incidents "$tmp/inc.jsonl" \
        --summary-json "$tmp/s.json" "$tmp/day.log")
    echo "# $n records: whole pipeline (process) $1 s, $(python3 -c "print(round($n / $1))") records/s, peak RSS $(($2 / 1024)) MB (exit $3); floor: $floor_wc; $floor_grep"
    score=$(python3 bench/score-incidents.py "$tmp/truth.json" "$tmp/inc.jsonl" --json | tail -1) || true
    python3 - "$tmp/s.json" "$score" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
c = json.loads(sys.argv[2])
k = s["correlation"]
print("%8d  %7.2f  %9.0f  %11.1f  %6d  %10d  %9d  %9d  %12d  %7.0f  %9.3f  %6.3f  %d/%d  %6d" % (
    s["records"], s["seconds"], s["records_per_second"], s["max_rss_kb"] / 1024.0,
    s["alerts"], s["aggregated"], s["incidents"], k["hits"],
    k["evicted_age"] + k["evicted_cap"], k["bytes"] / 1024.0, c["precision"], c["recall"],
    c["typed"], c["attacks"], c["merged"]))
PY
    rm -f "$tmp/day.log"
done
