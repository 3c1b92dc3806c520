"""End to end for the sealed audit log (issue 17, docs/audit.md "Seals"):
`hikeshi audit keygen`, a daemon that seals its audit log (by count, by
time when idle, at shutdown) and exports the head outside data_dir; denied
API requests and `hikeshi user add` in the log; `hikeshi audit verify`
with the head and keys; a restart on a log whose tail was cut refused
with the counts, and accepted with --accept-truncated-audit, which the log
records (and verify still reports, saying where it was accepted)."""

import json
import os
import pwd
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, user_add, wait_for  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
audit:
  key: {dir}/keys/audit.key
  head: {dir}/keys/audit.head
  seal_entries: 5
  seal_interval: 2
"""


def request(d, method, path, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def entries(d):
    with open(os.path.join(d.data, "audit.log"), "rb") as f:
        return [json.loads(l) for l in f.read().splitlines()]


def verify(d, *extra):
    return subprocess.run([BIN, "audit", "verify", "-c", d.conf] + list(extra),
                          capture_output=True, text=True)


def start_with(d, args, timeout=20):
    """hikeshi run with extra arguments: None once it is ready, or its exit
    code; only what this run logged counts."""
    seen = len(d.read_log())
    d.logf = open(d.log, "ab")
    d.proc = subprocess.Popen([BIN, "run", "-c", d.conf] + args, stdout=d.logf,
                              stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.proc.poll() is not None:
            d.logf.close()
            return d.proc.returncode
        if re.search(r"ready: data in", d.read_log()[seen:]):
            return None
        time.sleep(0.05)
    raise RuntimeError("hikeshi neither started nor stopped:\n" + d.read_log())


def main():
    d = Daemon(CONFIG)
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o700)
    if os.geteuid() == 0:
        # Started as root, the daemon becomes hikeshi (else nobody), and
        # each seal rewrites the key and the head in this directory.
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        os.chown(keys, who.pw_uid, who.pw_gid)

    r = subprocess.run([BIN, "audit", "keygen", "-c", d.conf], capture_output=True, text=True)
    check(r.returncode == 0 and re.search(r"(?m)^[0-9a-f]{64}$", r.stdout),
          "audit keygen prints the verification key (%s)" % (r.stdout + r.stderr).strip())
    head = os.path.join(keys, "audit.head")

    d.start()
    admin = user_add(d, "root-admin", "admin")
    viewer = user_add(d, "vic", "viewer")
    # The admin's request drains the queued user.add entries into the log.
    check(request(d, "GET", "/api/v1/users", admin) == 200, "admin lists users")
    check(request(d, "GET", "/api/v1/users", viewer) == 403, "a viewer is refused the users")
    check(request(d, "GET", "/api/v1/users", "hks_" + "x" * 43) == 401,
          "a made-up token is refused")
    for _ in range(7):  # two seals by count (seal_entries: 5) and one left over
        request(d, "DELETE", "/api/v1/users/1", viewer)
    log = entries(d)
    adds = [e for e in log if e["action"] == "user.add"]
    check(sorted(e["object"] for e in adds) == ["user/root-admin", "user/vic"],
          "hikeshi user add is audited for both users (%s)" % [e["object"] for e in adds])
    denied = [e for e in log if e["action"] == "api.denied"]
    check(any(e["actor"] == "vic" and e["details"]["status"] == 403
              and e["details"]["path"] == "/api/v1/users" for e in denied),
          "the viewer's refused request is audited with who, status and path (%s)" % denied)
    check(any(e["actor"] == "anonymous" and e["details"]["status"] == 401 for e in denied),
          "the made-up token's refusal is audited")
    # Idle for longer than seal_interval: the timer seals, the head follows.
    def head_is_last():
        if not os.path.exists(head):
            return False
        with open(head, "rb") as f:
            h = f.read()
        with open(os.path.join(d.data, "audit.log"), "rb") as f:
            last = f.read().splitlines(True)[-1]
        return h == last
    check(entries(d)[-1]["action"] == "api.denied" and not head_is_last(),
          "an entry after the last seal by count")
    check(wait_for(head_is_last, timeout=8), "an idle log is sealed and its head exported")
    check(request(d, "GET", "/api/v1/users", viewer) == 403, "one more refusal")
    check(d.stop() == 0, "daemon stops cleanly")

    log = entries(d)
    seals = [e for e in log if e["action"] == "audit.seal"]
    check(len(seals) >= 3 and log[-1]["action"] == "audit.seal"
          and log[-2]["action"] == "api.denied",
          "seals by count, by time and at shutdown; the last line is a seal (%d seals)"
          % len(seals))
    check([s["details"]["epoch"] for s in seals] == list(range(len(seals))),
          "seal epochs 0, 1, 2, ... in order")
    r = verify(d)
    check(r.returncode == 0 and "chain intact" in r.stdout and "%d seals" % len(seals) in r.stdout
          and "signed by the verification key's chain" in r.stdout,
          "audit verify with the head and keys: intact (%s)" % r.stdout.strip())

    # A clean restart continues the chain.
    check(start_with(d, []) is None, "restart on an intact sealed log")
    check(d.stop() == 0, "and stops again")
    total = len(entries(d))

    # Cut the tail: the last seal and the entry before it.
    path = os.path.join(d.data, "audit.log")
    with open(path, "rb") as f:
        lines = f.read().splitlines(True)
    with open(path, "wb") as f:
        f.writelines(lines[:-2])
    r = verify(d, "--json")
    out = json.loads(r.stdout)
    check(r.returncode == 1 and out["intact"] is False and out["line"] == total - 1
          and out["reason"].startswith("truncated"),
          "audit verify finds the cut, at line %d (%s)" % (total - 1, r.stdout.strip()))

    with open(head, "rb") as f:
        head_before = f.read()
    with open(path, "rb") as f:
        log_before = f.read()
    seen = len(d.read_log())
    rc = start_with(d, [])
    text = d.read_log()[seen:]
    with open(head, "rb") as f, open(path, "rb") as g:
        check(f.read() == head_before and g.read() == log_before,
              "the refused start neither seals the cut log nor moves the head")
    check(rc not in (None, 0), "a restart on the cut log is refused (exit %s)" % rc)
    check("holds %d entries" % (total - 2) in text and "entry %d" % total in text
          and "--accept-truncated-audit" in text,
          "the refusal names the entries found and expected and the way out")

    rc = start_with(d, ["--accept-truncated-audit"])
    check(rc is None, "with --accept-truncated-audit it starts")
    check(d.stop() == 0, "and stops")
    log = entries(d)
    acc = [e for e in log if e["action"] == "audit.truncation_accepted"]
    check(len(acc) == 1 and acc[0]["details"]["found"] == "truncated"
          and acc[0]["details"]["expected"] == total
          and acc[0]["details"]["entries"] == total - 2,
          "the log says the truncation was accepted, with the counts (%s)" % acc)
    r = verify(d)
    check(r.returncode == 1 and "seal epoch gap" in r.stdout and "accepted at line" in r.stdout,
          "verify still reports the missing seals and where the cut was accepted (%s)"
          % r.stdout.strip())
    finish()


if __name__ == "__main__":
    main()
