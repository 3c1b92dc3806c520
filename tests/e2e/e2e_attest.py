"""Proof of non-occurrence and archive excerpts (issue 19) over a real
daemon's archive: two inputs (syslog over TCP, JSON lines over TCP) send a
record every 0.2 s; then the JSON sender falls silent for 5 s while the
syslog one goes on; then both send again and one syslog line carries
EXFIL-7.  The daemon seals its archive (seal_interval 1 s, and at stop).

Every bundle below goes through both verifiers, hikeshi's and the Python
one (tools/verify-bundle.py with tools/verify_archive_proof.py), and they
must agree line for line: the same faults, the same number of checks.

- `hikeshi attest` over the first window (both alive, --max-gap 2s, query
  EXFIL) attests 0 matches; the bundle verifies in a fresh directory that
  holds only it, the evidence verification key and the two Python files.
- over the silent window it is REFUSED (exit 1), naming the clause and
  the silent source (js), and writes nothing.
- over the last window it attests, says the query matched 1 (exit 3), and
  the verified statement says "matched 1 record".
- a flipped byte of the attestation in a copy of the bundle: both
  verifiers fail and name the attestation item; checked under another
  site's key, both say the key is not the bundle's.
- `evidence add --archive --query EXFIL` makes an excerpt item holding the
  EXFIL line with its inclusion proof; exported, it verifies offline with
  both verifiers; one byte of the excerpt's record changed: both name the
  record (and the content digest); the record removed: both say the scan
  matched one and the excerpt holds none; a frame of the proof removed:
  both name the break in the chain; another site's key: both refuse."""

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, Daemon, check, finish, free_port, wait_for  # noqa: E402

VERIFIER = os.path.abspath(os.path.join(SOURCE, "tools", "verify-bundle.py"))
HIKESHI = os.path.abspath(BIN)

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: ssh
    type: syslog-tcp
    listen: 127.0.0.1:{port}
  - name: js
    type: json-tcp
    decoder: json
    listen: 127.0.0.1:%d
archive:
  key: %s
  verify_key: %s
  seal_interval: 1
"""


def nacl_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import nacl.signing"], capture_output=True).returncode == 0:
            return py
    return None


def run(*args, env=None, cwd=None):
    p = subprocess.run([HIKESHI] + list(args), capture_output=True, timeout=300, env=env, cwd=cwd)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def flip(path, offset):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def item_file(bundle):
    files = os.listdir(os.path.join(bundle, "items"))
    return os.path.join(bundle, "items", files[0])


def faults(out):
    """What a verifier found, in the words both print: its fault lines and
    its verdict with the number of checks ("attest verify" also prints the
    verified statement and calls the bundle an attestation bundle)."""
    lines = []
    for line in out.splitlines():
        if re.match(r"^EV-[0-9]+: Between ", line):
            continue
        lines.append(re.sub(r"^attestation bundle ", "bundle ", line))
    return lines


def verify_both(py, bundle, pub, what, sub=("attest", "verify"), verifier=VERIFIER, cwd=None):
    """Runs hikeshi's verifier and the Python one on the bundle; checks that
    they found the same faults (or the same number of checks passed)."""
    rc1, out1 = run(*sub, "--pub", pub, bundle, cwd=cwd)
    p = subprocess.run([py, verifier, "--pub", pub, bundle], capture_output=True, timeout=300,
                       cwd=cwd)
    out2 = p.stdout.decode() + p.stderr.decode()
    same = rc1 == p.returncode and faults(out1) == faults(out2)
    check(same, "%s: both verifiers agree, line for line%s"
          % (what, "" if same else ":\n%s--- and ---\n%s" % (out1, out2)))
    return (rc1, out1), (p.returncode, out2)


def fresh_copy(tmp, bundle, pub, name):
    """A directory holding only the bundle, the verification key and the
    two Python files of the stand-alone verifier."""
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "tools"))
    shutil.copytree(bundle, os.path.join(d, "bundle"))
    shutil.copy(pub, os.path.join(d, "evidence.pub"))
    for f in ("verify-bundle.py", "verify_archive_proof.py"):
        shutil.copy(os.path.join(SOURCE, "tools", f), os.path.join(d, "tools", f))
    return d, "bundle", "evidence.pub", os.path.join(d, "tools", "verify-bundle.py")


def rewrite(path, change):
    """Loads the JSON document at path, lets change() alter it, writes it back."""
    os.chmod(path, 0o644)
    with open(path) as f:
        doc = json.load(f)
    change(doc)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def main():
    tmp = tempfile.mkdtemp(prefix="e2e_attest.")
    os.chmod(tmp, 0o755)
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


def body(tmp):
    py = nacl_python()
    check(py is not None, "a Python with PyNaCl for the stand-alone verifier")
    keys = os.path.join(tmp, "keys")
    os.makedirs(keys)
    os.chmod(keys, 0o755)
    akey = os.path.join(keys, "archive.key")
    ekey = os.path.join(keys, "evidence.key")
    jport = free_port()
    d = Daemon(CONFIG % (jport, akey, akey + ".pub"))
    env = dict(os.environ, HIKESHI_EVIDENCE_KEY=ekey)
    rc, out = run("archive", "keygen", "-c", d.conf, "--key", akey)
    check(rc == 0, "archive keygen: %s" % out)
    rc, out = run("evidence", "keygen", "-c", d.conf, "--key", ekey)
    check(rc == 0, "evidence keygen: %s" % out)
    if os.geteuid() == 0:  # the daemon drops privileges and evolves the archive key
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        for p in (keys, akey):
            os.chown(p, who.pw_uid, who.pw_gid)
    d.start()

    ssh = socket.create_connection(("127.0.0.1", d.port))
    js = socket.create_connection(("127.0.0.1", jport))
    n = [0]

    def tick(both, text="sshd[42]: Accepted publickey for alice from 192.0.2.10"):
        n[0] += 1
        ssh.sendall(("<38>Dec  7 06:00:00 web1 %s seq=%d\n" % (text, n[0])).encode())
        if both:
            js.sendall(('{"event.action":"heartbeat","seq":%d}\n' % n[0]).encode())

    t0 = time.time()
    while time.time() < t0 + 4:       # both alive
        tick(True)
        time.sleep(0.2)
    t1 = time.time()
    while time.time() < t1 + 5:       # js silent
        tick(False)
        time.sleep(0.2)
    t2 = time.time()
    mark = None
    while time.time() < t2 + 4:       # both again, one EXFIL line
        if mark is None and time.time() > t2 + 2:
            mark = time.time()
            tick(True, "sshd[43]: EXFIL-7 upload of customers.db to 203.0.113.9")
        else:
            tick(True)
        time.sleep(0.2)
    t3 = time.time()
    ssh.close()
    js.close()
    total = 2 * n[0] - int(5 / 0.2) - 2  # roughly; only used as a floor below
    cat = lambda: subprocess.run([HIKESHI, "archive", "cat", "-c", d.conf, "-f", "jsonl"],
                                 capture_output=True).stdout.count(b"\n")
    check(wait_for(lambda: cat() >= total, timeout=30), "the archive holds the records")
    d.stop()  # seals what is left

    # 1. Both alive, no match: attested, and verified in a directory that
    #    holds only the bundle, the key and the Python verifier.
    out_a = os.path.join(tmp, "att-a")
    rc, out = run("attest", "-c", d.conf, "--from", iso(t0 + 0.5), "--to", iso(t1 - 0.5),
                  "--query", "EXFIL", "--max-gap", "2s", "-o", out_a, env=env)
    check(rc == 0 and "matched nothing" in out, "attest over an alive window: %s" % out)
    fa, b, pub, pyv = fresh_copy(tmp, out_a, ekey + ".pub", "fresh-a")
    (rc1, o1), (rc2, o2) = verify_both(py, b, pub, "attestation", verifier=pyv, cwd=fa)
    check(rc1 == 0 and "intact" in o1 and "matched 0 records" in o1,
          "attest verify: intact, matched 0: %s" % o1)
    check(rc2 == 0 and "intact" in o2, "verify-bundle.py: the attestation verifies: %s" % o2)
    doc = json.load(open(item_file(os.path.join(fa, b))))
    check(doc["verdict"] == "not-occurred" and doc["matched"] == 0 and
          [s["source"] for s in doc["sources"]] == ["ssh", "js"] and
          all(s["records"] > 0 and s["max_gap_us"] <= 2000000 for s in doc["sources"]) and
          doc["scan"]["records"] > 0 and len(doc["archive"]["seals"]) >= 1,
          "the attestation holds each clause's evidence")

    # 2. js silent: refused, named, nothing written.
    out_b = os.path.join(tmp, "att-b")
    rc, out = run("attest", "-c", d.conf, "--from", iso(t0 + 0.5), "--to", iso(t2 - 0.5),
                  "--query", "EXFIL", "--max-gap", "2s", "-o", out_b, env=env)
    check(rc == 1 and "REFUSED" in out and "clause source" in out and "source js" in out,
          "attest over a silent source is refused and names it: %s" % out)
    check(not os.path.exists(out_b), "a refused attestation writes no bundle")
    rc, out = run("attest", "-c", d.conf, "--source", "ssh", "--from", iso(t0 + 0.5),
                  "--to", iso(t2 - 0.5), "--query", "EXFIL", "--max-gap", "2s",
                  "-o", out_b, env=env)
    check(rc == 0, "the same window for the source that was alive attests: %s" % out)

    # 3. The query matches: says so.
    out_c = os.path.join(tmp, "att-c")
    rc, out = run("attest", "-c", d.conf, "--from", iso(t2 + 0.5), "--to", iso(t3 - 0.3),
                  "--query", "EXFIL", "--max-gap", "2s", "-o", out_c, env=env)
    check(rc == 3 and "MATCHED 1 record" in out, "a matching query is said: %s" % out)
    (rc1, o1), (rc2, o2) = verify_both(py, out_c, ekey + ".pub", "matched attestation")
    check(rc1 == 0 and "matched 1 record." in o1, "its statement says matched 1: %s" % o1)
    check(rc2 == 0, "verify-bundle.py on it: %s" % o2)
    doc = json.load(open(item_file(out_c)))
    check(doc["verdict"] == "occurred" and doc["matched"] == 1 and
          "matched 1 record." in doc["statement"], "its document says it occurred")

    # 4. A flipped byte of the attestation.
    bad = os.path.join(tmp, "att-a-bad")
    shutil.copytree(out_a, bad)
    f = item_file(bad)
    text = open(f, "rb").read()
    flip(f, text.index(b'"matched":0') + len('"matched":'))
    (rc1, o1), (rc2, o2) = verify_both(py, bad, ekey + ".pub", "flipped attestation")
    check(rc1 == 1 and "content SHA-256 mismatch" in o1 and "attestation EV-" in o1,
          "attest verify names the changed attestation: %s" % o1)
    check(rc2 == 1 and "SHA-256" in o2 and "attestation EV-" in o2 and
          "the statement is not the one its clauses make" in o2,
          "verify-bundle.py names it: %s" % o2)

    # 5. Another site's key: the attestation is not this site's.
    okey = os.path.join(keys, "other.key")
    rc, out = run("evidence", "keygen", "-c", d.conf, "--key", okey)
    check(rc == 0, "a second evidence key: %s" % out)
    (rc1, o1), (rc2, o2) = verify_both(py, out_a, okey + ".pub", "attestation, wrong key")
    wrong_key = "manifest.json: its public_key is not the verification key given"
    check(rc1 == 1 and wrong_key in o1,
          "attest verify with another key says the key is not the bundle's: %s" % o1)
    check(rc2 == 1 and wrong_key in o2, "verify-bundle.py with another key says so: %s" % o2)

    # 6. An archive excerpt as evidence, verified offline by both.
    rc, out = run("evidence", "add", "-c", d.conf, "--archive", "--query", "EXFIL",
                  "--from", iso(t0), "--to", iso(t3 + 1), "--incident", "1", env=env)
    check(rc == 0 and "archive excerpt" in out, "evidence add --archive: %s" % out)
    ev = out.split()[0]
    out_x = os.path.join(tmp, "excerpt")
    rc, out = run("evidence", "export", "-c", d.conf, "--item", ev, "-o", out_x, env=env)
    check(rc == 0, "export the excerpt: %s" % out)
    vb = ("evidence", "verify-bundle")
    fx, b, pub, pyv = fresh_copy(tmp, out_x, ekey + ".pub", "fresh-x")
    (rc1, o1), (rc2, o2) = verify_both(py, b, pub, "excerpt", sub=vb, verifier=pyv, cwd=fx)
    check(rc1 == 0 and "intact" in o1, "verify-bundle: the excerpt's proof holds: %s" % o1)
    check(rc2 == 0 and "intact" in o2, "verify-bundle.py: the excerpt's proof holds: %s" % o2)
    doc = json.load(open(item_file(out_x)))
    check(len(doc["records"]) == 1 and "EXFIL-7" in doc["records"][0]["raw"] and
          len(doc["archive"]["frames"]) >= 2 and doc["scan"]["matched"] == 1,
          "the excerpt holds the EXFIL line and the frames up to its seal")
    no = doc["records"][0]["no"]

    def tampered(name):
        d2 = os.path.join(tmp, name)
        shutil.copytree(out_x, d2)
        return d2, item_file(d2)

    # 6a. One byte of the record changed.
    bx, f = tampered("x-flip")
    text = open(f, "rb").read()
    flip(f, text.index(b"EXFIL-7") + 1)
    (rc1, o1), (rc2, o2) = verify_both(py, bx, ekey + ".pub", "excerpt, flipped byte", sub=vb)
    want = "record 0 (archive record %d): its bytes are not the archive's record" % no
    check(rc1 == 1 and want in o1 and "SHA-256 mismatch" in o1,
          "verify-bundle names the changed record: %s" % o1)
    check(rc2 == 1 and want in o2, "verify-bundle.py names the changed record: %s" % o2)

    # 6b. The record removed from the excerpt.
    bx, f = tampered("x-norecord")
    rewrite(f, lambda doc: doc["records"].pop())
    (rc1, o1), (rc2, o2) = verify_both(py, bx, ekey + ".pub", "excerpt, record removed", sub=vb)
    want = "the scan matched 1 records, the excerpt holds 0"
    check(rc1 == 1 and want in o1, "verify-bundle names the removed record: %s" % o1)
    check(rc2 == 1 and want in o2, "verify-bundle.py names the removed record: %s" % o2)

    # 6c. A frame removed from the archive proof (a record taken out of the
    #     archive between its block and its seal).
    bx, f = tampered("x-noframe")
    rewrite(f, lambda doc: doc["archive"]["frames"].pop(1))
    (rc1, o1), (rc2, o2) = verify_both(py, bx, ekey + ".pub", "excerpt, frame removed", sub=vb)
    want = "excerpt %s: archive frames" % ev
    check(rc1 == 1 and want in o1, "verify-bundle names the gap in the proof: %s" % o1)
    check(rc2 == 1 and want in o2, "verify-bundle.py names the gap in the proof: %s" % o2)

    # 6d. Another site's key.
    (rc1, o1), (rc2, o2) = verify_both(py, out_x, okey + ".pub", "excerpt, wrong key", sub=vb)
    check(rc1 == 1 and wrong_key in o1,
          "verify-bundle refuses the excerpt under another key: %s" % o1)
    check(rc2 == 1 and wrong_key in o2, "verify-bundle.py refuses it under another key: %s" % o2)


if __name__ == "__main__":
    main()
