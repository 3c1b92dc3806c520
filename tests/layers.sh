#!/bin/sh
# layers.sh SOURCE_ROOT - the bottom layer's includes point only down
# (issue 16).  Run by lint.sh; `layers.sh --self-test` shows it fails when
# it should.
#
#   src/util/    includes only util/ and system headers (not even the
#                generated build_config.h: util/ is built and tested as a
#                library of its own, and build facts belong to the program)
#   src/event/   util/ and event/
#   src/decode/  util/, event/ and decode/
#   src/archive/ util/, event/ and archive/ (the record log sits below
#                input/ and pipeline/, which write and read it)
#
# A project header is one whose first path component is a directory of
# src/ (or build_config.h), whether written "x/y.h" or <x/y.h>; anything
# else in <> is a system header.  Prints each offending line as
# FILE:LINE: includes HEADER (MODULE/ may include only ...) and exits 1.
set -eu

check() {
    root=$1
    status=0
    for spec in "util:util" "event:util event" "decode:util event decode" \
        "archive:util event archive"; do
        mod=${spec%%:*}
        allowed=${spec#*:}
        [ -d "$root/src/$mod" ] || continue
        for f in $(find "$root/src/$mod" -type f \( -name '*.c' -o -name '*.h' \) | sort); do
            # "N:header" for every #include line, quotes or angle brackets.
            lines=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$f" |
                sed 's/^\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1:\2/') || true
            for l in $lines; do
                n=${l%%:*}
                h=${l#*:}
                top=${h%%/*}
                if [ "$h" = build_config.h ]; then
                    top=build_config.h
                elif [ "$top" = "$h" ] || [ ! -d "$root/src/$top" ]; then
                    continue # a system header, or one beside the file
                fi
                ok=0
                for a in $allowed; do
                    [ "$top" = "$a" ] && ok=1
                done
                if [ $ok -eq 0 ]; then
                    echo "${f#"$root"/}:$n: includes $h ($mod/ may include only: $allowed)"
                    status=1
                fi
            done
        done
    done
    return $status
}

self_test() {
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    mkdir -p "$t/src/util" "$t/src/event" "$t/src/decode" "$t/src/input"
    expect() { # expect pass|fail what
        if check "$t" >"$t/out"; then got=pass; else got=fail; fi
        if [ "$got" != "$1" ]; then
            echo "layers.sh self-test: $2: expected $1, got $got" >&2
            cat "$t/out" >&2
            exit 1
        fi
        echo "ok   - $2"
    }
    printf '#include "util/log.h"\n#include <stdio.h>\n#include <gnutls/gnutls.h>\n' >"$t/src/util/a.c"
    printf '#include "util/arena.h"\n#include "event/event.h"\n' >"$t/src/event/e.c"
    printf '#include "decode/decode.h"\n#include "event/event.h"\n#include "util/buf.h"\n' >"$t/src/decode/d.c"
    expect pass "util on util and system headers, event on util, decode on event and util"
    printf '#include "input/record.h"\n' >"$t/src/util/b.c"
    expect fail "util including input/ is refused"
    printf '  #  include <input/record.h>\n' >"$t/src/util/b.c"
    expect fail "also when written with <> and spaces"
    printf '#include "build_config.h"\n' >"$t/src/util/b.c"
    expect fail "util including build_config.h is refused"
    rm "$t/src/util/b.c"
    printf '#include "decode/decode.h"\n' >"$t/src/event/f.h"
    expect fail "event including decode/ is refused"
    rm "$t/src/event/f.h"
    printf '#include "input/input.h"\n' >"$t/src/decode/g.h"
    expect fail "decode including input/ is refused"
    rm "$t/src/decode/g.h"
    expect pass "clean again"
}

if [ "${1:-}" = --self-test ]; then
    self_test
    exit 0
fi
if check "${1:?usage: layers.sh SOURCE_ROOT | --self-test}"; then
    echo "layers: util/, event/, decode/, archive/ include only below them"
else
    echo "layers: the bottom layer includes a module above it (see above)" >&2
    exit 1
fi
