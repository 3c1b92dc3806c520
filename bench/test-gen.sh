#!/bin/sh
# test-gen.sh GEN CHECKER - the generator's output and ground truth agree:
# 10,000 records in both formats and two seeds, checked by check-truth.py;
# and the same seed gives the same bytes twice.
set -eu
gen=$1 checker=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for seed in 1 7; do
    for fmt in file syslog; do
        "$gen" --seed "$seed" --records 10000 --format "$fmt" -o "$tmp/log" --truth "$tmp/truth"
        python3 "$checker" "$tmp/log" "$tmp/truth"
    done
done
"$gen" --seed 3 --records 5000 -o "$tmp/a" --truth "$tmp/ta"
"$gen" --seed 3 --records 5000 -o "$tmp/b" --truth "$tmp/tb"
cmp "$tmp/a" "$tmp/b" && cmp "$tmp/ta" "$tmp/tb"
"$gen" --seed 4 --records 5000 -o "$tmp/c" --truth "$tmp/tc"
if cmp -s "$tmp/a" "$tmp/c"; then
    echo "test-gen.sh: different seeds gave the same output" >&2
    exit 1
fi
echo "test-gen.sh: generator deterministic, ground truth consistent"
