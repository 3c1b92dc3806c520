"""`hikeshi archive` on real files: keygen (refusing a key inside data_dir or
over an existing one), an archive of OpenSSH's real log lines (written by
tests/archive_fill.c, as no input writes to the archive yet) read back
byte for byte by `archive cat`, whole and by time range, as raw lines and
JSON lines; `archive verify` intact, then on each tampered copy: a flipped
byte, a torn tail, a removed segment in the middle, the last segment gone
(found only through the key's epoch), the wrong verification key; each
fault named with its segment and offset, exit status 1."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, check, finish  # noqa: E402

FILL = os.environ.get("HIKESHI_ARCHIVE_FILL", "build/tests/archive_fill")
SHARED = os.environ.get("HIKESHI_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SAMPLE = os.path.join(SHARED, "data", "linux-logs", "loghub", "OpenSSH", "OpenSSH_2k.log")
START = 1_700_000_000_000_000  # µs
STEP = 1_000_000                # one record a second


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, timeout=120)


def segs(adir):
    return sorted(f for f in os.listdir(adir) if f.startswith("seg-"))


def main():
    tmp = tempfile.mkdtemp(prefix="e2e_archive.")
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


def body(tmp):
    data = os.path.join(tmp, "var")
    keys = os.path.join(tmp, "keys")
    os.makedirs(data)
    os.makedirs(keys)
    key = os.path.join(keys, "archive.key")
    conf = os.path.join(tmp, "hikeshi.yaml")
    with open(conf, "w") as f:
        f.write("data_dir: %s\narchive:\n  key: %s\n" % (data, key))

    r = run("archive", "--help")
    check(r.returncode == 0 and b"archive verify" in r.stdout, "archive --help")
    r = run("archive", "frobnicate")
    check(r.returncode == 2, "unknown subcommand exits 2")

    r = run("archive", "keygen", "-c", conf, "--key", os.path.join(data, "k"))
    check(r.returncode == 2 and b"inside data_dir" in r.stderr,
          "keygen refuses a key inside data_dir")
    r = run("archive", "keygen", "-c", conf)
    check(r.returncode == 0, "keygen: %s" % r.stderr.decode())
    with open(key + ".pub") as f:
        pub = f.read().strip()
    check(len(pub) == 64 and pub.encode() in r.stdout, "keygen prints the verification key")
    check(os.stat(key).st_mode & 0o077 == 0, "the signing key is private (0600)")
    r = run("archive", "keygen", "-c", conf)
    check(r.returncode == 1 and b"exists" in r.stderr, "keygen refuses to overwrite a key")

    with open(SAMPLE, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    adir = os.path.join(data, "archive")
    r = subprocess.run([FILL, adir, key, str(START), str(STEP), "250", str(8 * 1024), SAMPLE],
                       capture_output=True, timeout=120)
    check(r.returncode == 0 and (b"written=%d" % len(lines)) in r.stdout,
          "archive written: %s" % (r.stdout + r.stderr).decode().strip())
    check(len(segs(adir)) >= 3, "several segments (%d)" % len(segs(adir)))

    r = run("archive", "verify", "-c", conf)
    out = r.stdout.decode()
    check(r.returncode == 0 and "intact" in out and ("%d records" % len(lines)) in out,
          "verify: intact: %s" % out.strip())
    check("%d sealed" % len(lines) in out, "every record sealed")
    r = run("archive", "verify", "-c", conf, "--json")
    j = json.loads(r.stdout)
    check(r.returncode == 0 and j["intact"] and j["records"] == len(lines) and
          j["seals"] >= len(lines) // 250 and not j["form_only"], "verify --json")

    r = run("archive", "cat", "-c", conf)
    check(r.returncode == 0 and r.stdout == b"".join(l + b"\n" for l in lines),
          "cat gives back every line byte for byte")
    frm, to = 500, 750
    r = run("archive", "cat", "-c", conf, "--from", str((START + frm * STEP) // 1_000_000),
            "--to", str((START + to * STEP) // 1_000_000))
    check(r.returncode == 0 and r.stdout == b"".join(l + b"\n" for l in lines[frm:to]),
          "cat --from --to gives exactly the lines of that range")
    r = run("archive", "cat", "-c", conf, "-f", "jsonl", "--from", "2023-11-14T22:13:20Z",
            "--to", "2023-11-14T22:13:23Z")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    check(r.returncode == 0 and len(recs) == 3 and recs[0]["raw"] == lines[0].decode() and
          recs[1]["peer"] == "192.0.2.2:515" and recs[0]["input"] == "e2e" and
          recs[2]["time"].startswith("2023-11-14T22:13:22"),
          "cat -f jsonl: time, input, peer and the raw line")

    def tampered(name, change, expect_kind, expect_seg, *extra):
        copy = os.path.join(tmp, name)
        shutil.copytree(adir, copy)
        where = change(copy)
        r = run("archive", "verify", "-c", conf, "--dir", copy, *extra)
        out = r.stdout.decode()
        ok = r.returncode == 1 and expect_kind in out and expect_seg in out
        if where is not None:
            ok = ok and ("offset %d" % where) in out
        check(ok, "%s: verify exits 1 naming '%s' in %s: %s" % (name, expect_kind, expect_seg,
                                                                 out.strip()))
        shutil.rmtree(copy)

    s = segs(adir)

    def flip(copy):
        p = os.path.join(copy, s[1])
        with open(p, "r+b") as f:
            f.seek(2000)
            b = f.read(1)
            f.seek(2000)
            f.write(bytes([b[0] ^ 0x01]))
        return None
    tampered("flipped", flip, "hash mismatch", s[1])

    def torn(copy):
        p = os.path.join(copy, s[-1])
        size = os.path.getsize(p)
        os.truncate(p, size - 7)
        return None
    tampered("torn", torn, "torn tail", s[-1])

    def removed(copy):
        os.unlink(os.path.join(copy, s[1]))
        return 0
    tampered("removed-segment", removed, "bad segment", s[1])

    def last_gone(copy):
        os.unlink(os.path.join(copy, s[-1]))
        return None
    # The chain up to the cut is whole; only the key's epoch shows the loss.
    copy = os.path.join(tmp, "cut")
    shutil.copytree(adir, copy)
    last_gone(copy)
    r = run("archive", "verify", "--dir", copy, "--pub", key + ".pub")
    check(r.returncode == 0 and b"not checked against the key's epoch" in r.stdout,
          "a clean cut passes without the key's epoch, and says it was not checked")
    shutil.rmtree(copy)
    tampered("cut", last_gone, "seals missing at the end", s[-2])

    other = os.path.join(keys, "other.key")
    r = run("archive", "keygen", "--key", other)
    check(r.returncode == 0, "a second key chain")
    r = run("archive", "verify", "-c", conf, "--pub", other + ".pub")
    check(r.returncode == 1 and b"bad seal" in r.stdout and b"not the verification key" in r.stdout,
          "verify with another verification key fails at the first seal: %s" % r.stdout.decode())
    r = run("archive", "verify", "--dir", adir)
    check(r.returncode == 2 and b"--form-only" in r.stderr, "verify without any key asks for one")
    r = run("archive", "verify", "--dir", adir, "--form-only")
    check(r.returncode == 0 and b"form only" in r.stdout, "verify --form-only")


main()
