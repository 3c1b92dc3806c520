#!/bin/bash
# run-fuzz.sh TARGET_EXE SEED_DIR SECONDS [SAMPLE_FILE | msg:SAMPLE_FILE]...
#
# A sample given as msg:FILE seeds with the message part of each syslog
# line (the text after "prog[pid]: "), for the product decoders (sshd,
# sudo, netfilter) that parse only that part.  files:DIR seeds with up to
# 200 whole files under DIR (for inputs that span lines, such as rules).
# Runs a libFuzzer target for SECONDS over a temporary corpus made of the
# committed seeds (including crash-* regressions, which therefore replay on
# every run) plus the first lines of each real SAMPLE_FILE, one per input.
# The committed corpus is never written to.
set -eu
exe=$1 seeds=$2 secs=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
[ -d "$seeds" ] && cp -r "$seeds"/. "$tmp/corpus/" 2>/dev/null || true
n=0
for arg in "$@"; do
    d=${arg#files:}
    if [ "$d" != "$arg" ]; then
        if [ ! -d "$d" ]; then
            echo "run-fuzz.sh: sample directory missing: $d" >&2
            exit 1
        fi
        find "$d" -type f -name '*.yml' | sort | head -n 200 | while IFS= read -r g; do
            cp "$g" "$tmp/corpus/w$(printf '%s' "$g" | cksum | cut -d' ' -f1)"
        done
        continue
    fi
    f=${arg#msg:}
    if [ ! -r "$f" ]; then
        echo "run-fuzz.sh: sample missing: $f" >&2
        exit 1
    fi
    if [ "$f" != "$arg" ]; then
        lines() { head -n 200 "$f" | sed -E 's/^[^:]*:[0-9:]+ [^ ]+ [^ ]+: //'; }
    else
        lines() { head -n 200 "$f"; }
    fi
    lines | while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" >"$tmp/corpus/s$(basename "$f")-$n"
    done
done
status=0
"$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/log" 2>&1 || status=$?
tail -n 12 "$tmp/log"
if [ "$status" -ne 0 ]; then
    grep -A 30 "ERROR" "$tmp/log" | head -n 60 >&2 || true
fi
if ls "$tmp/artifacts"/* >/dev/null 2>&1; then
    echo "run-fuzz.sh: crash found; reproducer(s):" >&2
    for a in "$tmp/artifacts"/*; do
        echo "--- $a" >&2
        od -c "$a" | head -n 20 >&2
    done
    exit 1
fi
exit $status
