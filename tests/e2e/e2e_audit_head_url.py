"""The audit log's head exported to a URL (issue 17, docs/audit.md "The
exported head"), on the real binary.

A daemon seals its audit log (every 3 entries, and after 1 s idle),
copies each seal's line to audit.head, and POSTs each new head to
audit.head_url, served by a receiver this test runs: it checks the HMAC
signature of every POST and refuses the first one (503).  Then:
  - the receiver ends up with the head audit.head holds, byte for byte
    (its newline aside), after a retry the log names;
  - `hikeshi audit verify --head` passes against the receiver's copy;
  - the log's tail cut back before that head fails verify against the
    receiver's copy ("truncated"), though the log alone holds together;
  - a restart sends the shutdown seal's head.
"""

import hashlib
import hmac
import http.server
import json
import os
import pwd
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, wait_for  # noqa: E402

SECRET = b"h" * 48

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
  head_url: URL
  head_secret_file: {dir}/keys/head.secret
  seal_entries: 3
  seal_interval: 1
"""


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies = []
    bad_sig = 0
    refused = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Hikeshi-Timestamp", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(self.headers.get("X-Hikeshi-Signature", ""), want):
            Receiver.bad_sig += 1
            code = 401
        elif Receiver.refused < 1:
            Receiver.refused += 1
            code = 503
        else:
            Receiver.bodies.append(body)
            code = 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def denied(d):
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/users" % d.http)
    req.add_header("Authorization", "Bearer hks_" + "x" * 43)
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError:
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/audit-head" % srv.server_address[1]
    d = Daemon(CONFIG.replace("URL", url))
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o700)
    with open(os.path.join(keys, "head.secret"), "wb") as f:
        f.write(SECRET + b"\n")
    os.chmod(os.path.join(keys, "head.secret"), 0o600)
    r = subprocess.run([BIN, "audit", "keygen", "-c", d.conf], capture_output=True, text=True)
    check(r.returncode == 0, "audit keygen (%s)" % r.stderr.strip())
    if os.geteuid() == 0:
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        for p in [keys] + [os.path.join(keys, x) for x in os.listdir(keys)]:
            os.chown(p, who.pw_uid, who.pw_gid)
    head = os.path.join(keys, "audit.head")

    def head_text():
        try:
            with open(head, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    d.start()
    for _ in range(7):  # refused requests: audited, two seals by count
        denied(d)
    check(wait_for(lambda: head_text() and Receiver.bodies
                   and Receiver.bodies[-1] + b"\n" == head_text(), timeout=30),
          "the receiver holds the head audit.head holds")
    check(Receiver.refused == 1 and "audit head export to %s: not taken" % url in d.read_log()
          and "taken again after 1 failed attempts" in d.read_log(),
          "its first refusal was retried, and the log says so")
    check(Receiver.bad_sig == 0, "every POST was signed with the secret")
    check(d.stop() == 0, "the daemon stops cleanly")
    got = os.path.join(d.dir, "received.head")
    with open(got, "wb") as f:
        f.write(Receiver.bodies[-1] + b"\n")
    seq = json.loads(Receiver.bodies[-1])["seq"]
    r = subprocess.run([BIN, "audit", "verify", "-c", d.conf, "--head", got],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "chain intact" in r.stdout,
          "audit verify passes against the receiver's head: %s" % r.stdout.strip()[:300])

    log = os.path.join(d.data, "audit.log")
    saved = os.path.join(d.dir, "audit.log.saved")
    shutil.copy(log, saved)
    with open(log, "rb") as f:
        lines = f.read().splitlines(True)
    with open(log, "wb") as f:
        f.writelines(lines[:seq - 1])  # up to, not including, the head's entry (seq from 1)
    # Checked without the signing key (whose epoch would see the cut too):
    # a configuration naming only the verification key.
    bare = os.path.join(d.dir, "verify.yaml")
    with open(d.conf) as f:
        text = f.read()
    with open(bare, "w") as f:
        f.write(text.replace("  key: %s/audit.key\n" % keys,
                             "  verify_key: %s/audit.key.pub\n" % keys)
                .replace("  head: %s\n" % head, "")
                .replace("  head_url: %s\n" % url, "")
                .replace("  head_secret_file: %s/head.secret\n" % keys, ""))
    r = subprocess.run([BIN, "audit", "verify", "-c", bare], capture_output=True, text=True)
    check(r.returncode == 0, "without a head, the cut log holds together: %s"
          % (r.stdout + r.stderr).strip()[:300])
    r = subprocess.run([BIN, "audit", "verify", "-c", bare, "--head", got, "--json"],
                       capture_output=True, text=True)
    out = json.loads(r.stdout or "{}")
    check(r.returncode == 1 and str(out.get("reason", "")).startswith("truncated"),
          "against the received head, the cut is found: %s"
          % (r.stdout + r.stderr).strip()[:300])
    shutil.copy(saved, log)

    n = len(Receiver.bodies)
    final = head_text()
    d.start()
    check(wait_for(lambda: final in [b + b"\n" for b in Receiver.bodies[n:]], timeout=30),
          "a restart sends the shutdown seal's head")
    check(d.stop() == 0, "and stops cleanly")
    srv.shutdown()
    if finish() == 0:
        shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
