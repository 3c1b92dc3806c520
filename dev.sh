#!/bin/sh
# dev.sh - the two commands of the README.
#
#   ./dev.sh run [ARGS...]   install what is needed, build, run hikeshi on its
#                            defaults (or with ARGS passed to `hikeshi run`)
#   ./dev.sh test            install what is needed, build with gcc (-Werror)
#                            and with clang (ASan+UBSan, fuzz targets), run every
#                            test in both builds; exit 0 only if all pass
#
# The web console's one library (Chart.js) comes from npm at build time
# (`npm ci` in web/, exact versions from its package-lock.json); the browser
# tests add Debian's chromium and playwright-core (npm ci in tests/browser);
# the OpenAPI document is linted by @redocly/cli (npm ci in tests/api).
# Builds go to build/ and build-asan/.  Needs Debian 12 (apt-get); run as root
# or with sudo available.
set -eu

cd "$(dirname "$0")"

PKGS="gcc clang meson ninja-build pkg-config libyaml-dev libsqlite3-dev
libmicrohttpd-dev zlib1g-dev libcmocka-dev libclang-rt-14-dev python3 bsdutils
cppcheck libpcre2-dev libevtx-dev libvectorscan-dev libsodium-dev libgnutls28-dev
libcurl4-openssl-dev libnftables-dev nftables iproute2 tzdata libseccomp-dev
libzstd-dev librelp-dev libnats-dev"
# Only the tests drive a browser, and build, check and install the Debian
# package (tests/e2e/e2e_package.py).
TEST_PKGS="chromium dpkg-dev debhelper lintian logrotate systemd systemd-container"
# Syslog over TLS from Debian's rsyslog, certificates made by certtool
# (tests/e2e/e2e_syslog_tls.py).
TEST_PKGS="$TEST_PKGS rsyslog rsyslog-gnutls gnutls-bin"
# The archive bench prints zstd(1)'s ratio on the same file beside ours;
# tools/verify_archive_proof.py decompresses an excerpt's archive blocks
# with it (tests/e2e/e2e_attest.py, issue 19).
TEST_PKGS="$TEST_PKGS zstd"
# RELP's acked delivery from Debian's rsyslog omrelp
# (tests/e2e/e2e_relp.py).
TEST_PKGS="$TEST_PKGS rsyslog-relp"
# tools/verify-bundle.py (evidence bundles checked without hikeshi, issue 19);
# the fresh NATS NKeys of tests/e2e/e2e_nats_nkey.py (issue 23)
TEST_PKGS="$TEST_PKGS python3-nacl"
# The STIX export checked against OASIS's JSON schemas
# (tests/e2e/e2e_intel_export.py, issue 20).
TEST_PKGS="$TEST_PKGS python3-jsonschema"
# /metrics must pass `promtool check metrics` (prometheus); the README
# tour's report must render as the text it holds (cmark-gfm,
# tests/e2e/e2e_tour.py), which runs the tour's curl and sqlite3 commands.
TEST_PKGS="$TEST_PKGS prometheus cmark-gfm curl sqlite3"
# Scale-out (issue 23, docs/scale.md): collectors publish to and analysers
# consume from NATS JetStream through the C client (libnats-dev, in PKGS);
# the e2e tests start a real 3-node cluster of Debian's nats-server
# (tests/e2e/e2e_nats*.py).
TEST_PKGS="$TEST_PKGS nats-server"
# tests/e2e/e2e_nats_tls.py makes its CA, server and client certificates
# with openssl(1).
TEST_PKGS="$TEST_PKGS openssl"
# The exercise scenarios read by tests/e2e/e2e_scenarios.py, which expands
# their templates itself to check the detections they expect (issue 22).
TEST_PKGS="$TEST_PKGS python3-yaml"

install_deps() {
    missing=""
    command -v npm >/dev/null 2>&1 || missing=" nodejs npm"
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "dev.sh: installing:$missing"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
}

# npm ci in each folder with a package-lock.json whose node_modules is
# missing or older than the lock file.
npm_deps() {
    for d in "$@"; do
        [ -f "$d/package-lock.json" ] || continue
        if [ ! -f "$d/node_modules/.package-lock.json" ] ||
            [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
            echo "dev.sh: npm ci in $d"
            (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
        fi
    done
}

setup_gcc() {
    [ -f build/build.ninja ] || CC=gcc meson setup build
}

setup_asan() {
    [ -f build-asan/build.ninja ] ||
        CC=clang meson setup build-asan -Dbuildtype=debug \
            -Db_sanitize=address,undefined -Db_lundef=false \
            -Dc_args=-fno-sanitize-recover=all -Dfuzz=true
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
run)
    # shellcheck disable=SC2086
    install_deps $PKGS
    npm_deps web
    setup_gcc
    ninja -C build hikeshi
    exec ./build/hikeshi run "$@"
    ;;
test)
    # shellcheck disable=SC2086
    install_deps $PKGS $TEST_PKGS
    npm_deps web tests/browser tests/api
    setup_gcc
    setup_asan
    ninja -C build
    ninja -C build-asan
    status=0
    meson test -C build --print-errorlogs --num-processes 2 || status=1
    meson test -C build-asan --print-errorlogs --num-processes 2 || status=1
    python3 tests/summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json ||
        status=1
    exit $status
    ;;
*)
    echo "usage: ./dev.sh run [ARGS...] | ./dev.sh test" >&2
    exit 2
    ;;
esac
