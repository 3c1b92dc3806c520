#!/bin/sh
# lint.sh SOURCE_ROOT BUILD_DIR - static analysis of src/ with cppcheck and
# clang-tidy (using the build's compile_commands.json), after the layering
# check of layers.sh (util/, event/, decode/ include nothing above them)
# and circles.py (no two files of src/ call each other, from the built
# objects' symbols).
# Fails on any finding.
set -eu
src=$1 build=$2
status=0
# layers.sh's self-test first: the check must be able to fail.
"$src/tests/layers.sh" --self-test >/dev/null || status=1
"$src/tests/layers.sh" "$src" || status=1
python3 "$src/tests/circles.py" --self-test >/dev/null || status=1
python3 "$src/tests/circles.py" "$build" || status=1
if command -v cppcheck >/dev/null 2>&1; then
    cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
        --inline-suppr --std=c11 -D_GNU_SOURCE -I "$src/src" -I "$build" \
        --suppress=missingIncludeSystem "$src/src" || status=1
    echo "cppcheck: done (status $status)"
else
    echo "lint.sh: cppcheck not installed" >&2
    exit 1
fi
if command -v clang-tidy >/dev/null 2>&1; then
    # One clang-tidy per core: serially it takes longer than the test's
    # timeout on two cores once src/ passed 200 files.
    jobs=$(nproc 2>/dev/null || echo 2)
    out=$(find "$src/src" -name '*.c' | sort |
        xargs -P "$jobs" -n 4 clang-tidy --quiet -p "$build" 2>/dev/null |
        grep -E "warning:|error:" || true)
    if [ -n "$out" ]; then
        echo "$out"
        status=1
    fi
    echo "clang-tidy: done (status $status)"
else
    echo "lint.sh: clang-tidy not installed" >&2
    exit 1
fi
exit $status
