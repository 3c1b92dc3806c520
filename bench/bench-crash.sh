#!/bin/sh
# bench-crash.sh BUILD [KILLS] - issue 17's crash target: a TCP sender at
# full speed (up to LINES lines a connection, default 5,000,000, so that the
# kill, not the end of the lines, stops it) while `hikeshi run` (archive.sync: every record) is killed with
# SIGKILL at random points KILLS times (default 20) and restarted each time.
# It is tests/e2e/e2e_archive_crash.py with more kills: the same checks (each
# connection's archived lines a gap-free prefix of what was sent, every
# archived line stored exactly once, no alert twice, each restart's report),
# then the default policy and the sealed cases.  Prints the run's summary:
# lines handed to the kernel, archived, stored, missing, duplicated and
# replayed.  Lines handed to the kernel but never read by the daemon (in the
# socket buffers at the kill) are not archived and not lost: the sender
# was never acknowledged for them.  Exit status is the test's.
set -eu
BUILD=${1:?usage: bench-crash.sh BUILD [KILLS]}
KILLS=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
HIKESHI_BIN=$(cd "$BUILD" && pwd)/hikeshi
export HIKESHI_BIN
HIKESHI_SOURCE=$(cd "$HERE/.." && pwd)
export HIKESHI_SOURCE
HIKESHI_CRASH_KILLS=$KILLS
export HIKESHI_CRASH_KILLS
HIKESHI_CRASH_LINES=${LINES:-5000000}
export HIKESHI_CRASH_LINES
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
rc=0
python3 "$HERE/../tests/e2e/e2e_archive_crash.py" >"$OUT" 2>&1 || rc=$?
grep -E "^(seed|connection|records replayed|summary|all checks passed|[0-9]+ failed|  )" "$OUT" || true
exit $rc
