"""The evidence panel of an incident page in headless Chromium (issue 19).

The daemon runs with an evidence key and an intake directory; through the
API an analyst opens an incident, registers a pcap whose file name is
markup (it must reach the page as text) and hands it from alice to bob.
console_evidence.test.mjs then logs the analyst in, opens the incident,
and checks the panel: the item, its custodian (bob), "never verified",
its custody log; Verify in the console turns the state to intact, and the
API's custody log holds that verify under the analyst's name.  A viewer
sees the panel without the Verify button.  Needs what e2e_console.py
needs (chromium, tests/browser/node_modules)."""

import hashlib
import json
import os
import pwd
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, Daemon, check, finish  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, prerequisites  # noqa: E402

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
evidence:
  key: {dir}/keys/evidence.key
  intake: [{dir}/intake]
"""

USERS = {"analyst": ("bob", "bob's long passphrase"),
         "viewer": ("victor", "victor's long passphrase")}
HOSTILE_NAME = "<img src=x onerror=window.__xss=1>.pcap"


def call(d, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    keys, intake = os.path.join(d.dir, "keys"), os.path.join(d.dir, "intake")
    os.mkdir(keys, 0o755)
    os.mkdir(intake, 0o755)
    key = os.path.join(keys, "evidence.key")
    r = subprocess.run([BIN, "evidence", "keygen", "-c", d.conf, "--key", key],
                       capture_output=True, text=True)
    check(r.returncode == 0, "evidence keygen")
    if os.geteuid() == 0:
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        for p in (keys, key, key + ".pub"):
            os.chown(p, who.pw_uid, who.pw_gid)
    pcap = os.path.join(intake, HOSTILE_NAME)
    with open(pcap, "wb") as f:
        f.write(b"\xd4\xc3\xb2\xa1" + b"capture of the exfiltration" * 10)
    with open(pcap, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tok = {}
    for role, (name, pw) in USERS.items():
        r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", role, "--password-stdin",
                            name], input=pw + "\n", capture_output=True, text=True)
        t = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
        check(r.returncode == 0 and t, "user add %s (%s)" % (name, role))
        tok[role] = t[0] if t else ""
    d.start()
    try:
        st, inc = call(d, "POST", "/api/v1/incidents", tok["analyst"], {"title": "leak on web1"})
        check(st == 201, "an incident (%s)" % st)
        st, item = call(d, "POST", "/api/v1/evidence", tok["analyst"],
                        {"kind": "pcap", "path": pcap, "incidents": [inc["id"]],
                         "acquisition": {"by": "alice", "host": "web1", "tool": "tcpdump"}})
        check(st == 201 and item["sha256"] == sha, "the pcap registered (%s)" % st)
        st, _ = call(d, "POST", "/api/v1/evidence/1/transfer", tok["analyst"],
                     {"from": "alice", "to": "bob", "reason": "analysis"})
        check(st == 200, "handed from alice to bob (%s)" % st)
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USERS=json.dumps({role: {"name": n, "password": p}
                                             for role, (n, p) in USERS.items()}),
                   HIKESHI_INCIDENT=str(inc["id"]),
                   HIKESHI_ITEM=json.dumps({"id": "EV-1", "name": HOSTILE_NAME, "sha256": sha}),
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_evidence.test.mjs")], env=env,
                           cwd=HERE, timeout=180)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_evidence.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
        st, c = call(d, "GET", "/api/v1/evidence/1/custody", tok["viewer"])
        log = c.get("custody", []) if st == 200 else []
        check([e["action"] for e in log] == ["add", "transfer", "verify"] and
              log[-1]["actor"] == "api:bob" and log[-1]["details"]["result"] == "ok",
              "the custody log holds the console's verify by api:bob, and no access entry "
              "from showing the page (%s)" % [e["action"] for e in log])
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
