#!/bin/bash
# bench-evidence.sh BUILD [FILE] - hashing throughput of `hikeshi evidence
# add` (SHA-256 and BLAKE2b-512 in one pass, plus its custody entry, seal
# and audit entry) beside sha256sum and b2sum on the same file, side by
# side.  Without FILE a file of SIZE_MB (1024) MiB of random bytes is made
# in a temporary directory.  The file is read once first so that every
# tool starts from the page cache; each tool runs RUNS (3) times and the
# best run is printed.  No assertion: figures go to bench/README.md.
set -eu
build=${1:?usage: bench-evidence.sh BUILD [FILE]}
hikeshi=$(cd "$build" && pwd)/hikeshi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=${2:-}
if [ -z "$file" ]; then
    file=$tmp/evidence.bin
    head -c "$((${SIZE_MB:-1024} * 1024 * 1024))" /dev/urandom > "$file"
fi
bytes=$(stat -c %s "$file")
runs=${RUNS:-3}
cat "$file" > /dev/null
mkdir "$tmp/keys"
printf 'data_dir: %s/var\n' "$tmp" > "$tmp/cfg.yaml"
"$hikeshi" evidence keygen -c "$tmp/cfg.yaml" --key "$tmp/keys/ev.key" > /dev/null

# best wall-clock seconds of RUNS runs of the command
best() {
    local b=
    for _ in $(seq "$runs"); do
        local s e t
        s=$(date +%s.%N)
        "$@" > /dev/null
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

row() {
    printf '%-38s %8.2f s %9.0f MB/s\n' "$1" "$2" "$(echo "$bytes / $2 / 1000000" | bc -l)"
}

printf '%s: %d bytes, best of %d runs, %d CPUs\n' "$file" "$bytes" "$runs" "$(nproc)"
t_sha=$(best sha256sum "$file")
t_b2=$(best b2sum "$file")
t_ev=$(best "$hikeshi" evidence add -c "$tmp/cfg.yaml" --key "$tmp/keys/ev.key" \
    --kind other "$file")
row "sha256sum" "$t_sha"
row "b2sum" "$t_b2"
row "hikeshi evidence add (both + custody)" "$t_ev"
faster=$(echo "if ($t_sha < $t_b2) $t_sha else $t_b2" | bc -l)
printf 'evidence add / faster of the two: %.2fx\n' "$(echo "$faster / $t_ev" | bc -l)"
