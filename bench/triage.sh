#!/bin/sh
# bench/triage.sh BUILD [RECORDS...] - detection, correlation and triage
# over the generator's day: for each size (default 1000000 and 10000000)
# generate the log with its ground truth, run `hikeshi scan` with the
# bundled rules, and print throughput, peak RSS, the funnel (records ->
# alerts -> aggregated alerts -> incidents) and the score against the
# ground truth (bench/score-incidents.py).  Works in a temporary directory,
# removed at the end (KEEP=1 keeps it).  Run from the source root.
set -eu
build=${1:?usage: bench/triage.sh BUILD [RECORDS...]}
shift
sizes=${*:-1000000 10000000}
seed=${SEED:-1}
tmp=$(mktemp -d /tmp/hikeshi-triage-XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
echo "records  seconds  records/s  peak_rss_MB  alerts  aggregated  incidents  corr_hits  corr_evicted  corr_KB  precision  recall  typed  merged"
for n in $sizes; do
    "$build/bench/hikeshi-gen" --records "$n" --seed "$seed" -o "$tmp/day.log" --truth "$tmp/truth.json"
    "$build/hikeshi" scan -q --no-progress -f jsonl --incidents "$tmp/inc.jsonl" \
        --summary-json "$tmp/s.json" "$tmp/day.log" > /dev/null
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
