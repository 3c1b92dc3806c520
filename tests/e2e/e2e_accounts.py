"""End to end for accounts (issue 15): `hikeshi user passwd|list|disable|
enable|token` against a running daemon, tokens that expire (http.token_ttl)
and rotate (CLI and API), every change in the audit log with the chain
intact, and /metrics that needs a token off loopback (the daemon in a
network namespace on a veth interface's address) and is open on
127.0.0.1."""

import json
import os
import re
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, DAEMON_SOURCE, Daemon, check, finish, free_port, wait_for  # noqa: E402

PW_ALICE = "alice correct horse"
PW_BOB = "bob battery staple"
PW_BOB2 = "bob's second password"

# Login tokens live 3 s here: long enough to use, short enough to outwait.
CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
  token_ttl: 3s
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
"""


def call(d, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            ctype = r.headers.get("Content-Type", "")
            return r.status, json.loads(raw) if "json" in ctype and raw.strip() else raw
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw.strip() else None
        except ValueError:
            return e.code, raw


def user(d, *args, stdin=None):
    return subprocess.run([BIN, "user"] + list(args[:1]) + ["-c", d.conf] + list(args[1:]),
                          input=stdin, capture_output=True, text=True)


def printed_token(r):
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    return tok[0] if len(tok) == 1 and tok[0].startswith("hks_") else ""


def login(d, name, pw):
    return call(d, "POST", "/api/v1/login", body={"name": name, "password": pw})


def whoami(d, token):
    return call(d, "GET", "/api/v1/session", token)[0]


def audit_actions(d):
    with open(os.path.join(d.data, "audit.log")) as f:
        return [json.loads(l) for l in f if l.strip()]


def accounts(d):
    # Before the daemon: two users with passwords, tokens for an hour.
    r = user(d, "add", "--role", "admin", "--password-stdin", "--ttl", "1h", "alice",
             stdin=PW_ALICE + "\n")
    alice_cli = printed_token(r)
    check(r.returncode == 0 and alice_cli and "expires: " in r.stdout,
          "user add alice prints a token and its expiry (%s)" % r.stderr.strip())
    r = user(d, "add", "--role", "analyst", "--password-stdin", "--ttl", "1h", "bob",
             stdin=PW_BOB + "\n")
    bob_cli = printed_token(r)
    check(r.returncode == 0 and bob_cli, "user add bob")
    r = user(d, "add", "--role", "viewer", "--ttl", "1w", "carol")
    check(r.returncode == 2 and "--ttl" in r.stderr, "a ttl that is no duration is refused (2)")
    d.start()

    # Token expiry: login tokens get http.token_ttl (3 s), then 401.
    st, b = login(d, "alice", PW_ALICE)
    alice_t = b.get("token", "") if st == 201 else ""
    check(st == 201 and alice_t and "expires" in b, "alice logs in: a token with an expiry")
    check(whoami(d, alice_t) == 200, "the login token works")
    time.sleep(3.3)
    check(whoami(d, alice_t) == 401, "past http.token_ttl the login token is refused (401)")
    st, b = login(d, "alice", PW_ALICE)
    alice_t = b.get("token", "") if st == 201 else ""
    con = sqlite3.connect(os.path.join(d.data, "hikeshi.db"))
    left = con.execute("SELECT count(*) FROM tokens WHERE expires_us <= ?",
                       (int(time.time() * 1e6),)).fetchone()[0]
    con.close()
    check(left == 0, "the expired token was pruned when the next one was made (%d left)" % left)

    # API rotation: a new token; the old one stops at once.
    st, b = call(d, "POST", "/api/v1/session/rotate", alice_t)
    rotated = b.get("token", "") if st == 201 else ""
    check(st == 201 and rotated and rotated != alice_t, "POST session/rotate gives a new token")
    check(whoami(d, alice_t) == 401 and whoami(d, rotated) == 200,
          "after API rotation the old token is 401, the new one works")

    # passwd while the daemon runs: old password 401, new one works, and
    # bob's tokens are revoked.
    check(whoami(d, bob_cli) == 200, "bob's token from user add works")
    r = user(d, "passwd", "bob", stdin=PW_BOB2 + "\n")
    check(r.returncode == 0 and "revoked" in r.stdout, "user passwd bob (%s)" % r.stderr.strip())
    check(login(d, "bob", PW_BOB)[0] == 401, "bob's old password: 401")
    st, b = login(d, "bob", PW_BOB2)
    check(st == 201, "bob's new password logs in (%s)" % st)
    check(whoami(d, bob_cli) == 401, "passwd revoked bob's earlier token")
    r = user(d, "passwd", "bob", stdin="short\n")
    check(r.returncode == 2 and "short" in r.stderr, "a too short password is refused (2)")
    r = user(d, "passwd", "nobody", stdin=PW_BOB2 + "\n")
    check(r.returncode == 1 and "no such user" in r.stderr, "passwd of an unknown user: 1")

    # user token and --rotate (CLI).
    r = user(d, "token", "--label", "scraper", "--ttl", "2h", "bob")
    bob_t = printed_token(r)
    check(r.returncode == 0 and bob_t and whoami(d, bob_t) == 200,
          "user token bob issues a working token")
    # disable: login refused (403 with the right password), token refused.
    r = user(d, "disable", "bob")
    check(r.returncode == 0, "user disable bob")
    check(login(d, "bob", PW_BOB2)[0] == 403, "a disabled user cannot log in (403)")
    check(whoami(d, bob_t) == 401, "a disabled user's token is refused (401)")
    r = user(d, "enable", "bob")
    check(r.returncode == 0 and whoami(d, bob_t) == 200,
          "user enable bob: the unexpired token works again")
    # The same through the API, by an admin.
    st, b = call(d, "GET", "/api/v1/users", alice_cli)
    bob_id = [u["id"] for u in b.get("users", []) if u["name"] == "bob"] if st == 200 else []
    check(len(bob_id) == 1, "GET users lists bob (%s)" % st)
    bob_id = bob_id[0] if bob_id else 0
    st, b = call(d, "PATCH", "/api/v1/users/%d" % bob_id, alice_cli, {"disabled": True})
    check(st == 200 and b.get("disabled") is True and whoami(d, bob_t) == 401,
          "PATCH users/{id} disabled: bob's token is refused (%s)" % st)
    st, b = call(d, "PATCH", "/api/v1/users/%d" % bob_id, alice_cli, {"disabled": False})
    check(st == 200 and whoami(d, bob_t) == 200, "PATCH disabled false: it works again")
    r = user(d, "token", "--rotate", "--ttl", "1h", "bob")
    bob_t2 = printed_token(r)
    check(r.returncode == 0 and bob_t2 and "revoked" in r.stdout, "user token --rotate bob")
    check(whoami(d, bob_t) == 401 and whoami(d, bob_t2) == 200,
          "after CLI rotation the old token is 401, the new one works")

    # list: the users, never a secret.
    r = user(d, "list")
    out = r.stdout
    check(r.returncode == 0 and re.search(r"^alice\s+admin\s+enabled", out, re.M)
          and re.search(r"^bob\s+analyst\s+enabled", out, re.M),
          "user list shows alice and bob with role and state")
    secrets = [t for t in (alice_t, rotated, bob_t, bob_t2) if t and t in out]
    check(r.returncode == 0 and "$argon2" not in out and "hks_" not in out and not secrets,
          "user list prints no password hash and no token")
    r = user(d, "list", "--json")
    rows = {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        rows[o["name"]] = o
    a, b = rows.get("alice", {}), rows.get("bob", {})
    # alice's rotated token lives 3 s and may be gone by now: at least the
    # one from user add (an hour).
    check(a.get("last_login") and a.get("tokens", 0) >= 1 and a.get("has_password") is True,
          "alice: last login set, valid tokens counted, a password (%s)" % a)
    check(b.get("tokens") == 1 and b.get("disabled") is False,
          "bob: 1 valid token after rotation, enabled (%s)" % b)
    check(set(a) == {"name", "role", "disabled", "created", "last_login", "tokens",
                     "has_password"}, "the JSON form has exactly the documented keys")

    # The CLI's changes reach the audit log while the daemon holds it,
    # before the daemon's next answer.
    call(d, "GET", "/api/v1/health")
    acts = [e["action"] for e in audit_actions(d)]
    check("user.disable" in acts and "user.enable" in acts,
          "CLI changes made while the daemon runs are in the audit log after its next request")

    # /metrics on 127.0.0.1: open, as before.
    st, body = call(d, "GET", "/metrics")
    check(st == 200 and b"hikeshi_" in body, "/metrics on 127.0.0.1 needs no token")

    rc = d.stop()
    check(rc == 0, "daemon stops cleanly (%s)" % rc)
    entries = audit_actions(d)
    by = [(e["actor"], e["action"]) for e in entries]
    for action in ("user.add", "user.passwd", "user.disable", "user.enable", "token.add",
                   "token.rotate"):
        check(any(a.startswith("cli:") and x == action for a, x in by),
              "audit log: %s by the CLI" % action)
    check(("alice", "token.rotate") in by, "audit log: token.rotate by alice through the API")
    check(any(e["actor"] == "alice" and e["action"] == "user.update"
              and e["details"].get("disabled") is True for e in entries),
          "audit log: user.update disabled by alice through the API")
    check(not any("hks_" in json.dumps(e) or "argon2" in json.dumps(e) for e in entries),
          "no token or password hash in the audit log")
    con = sqlite3.connect(os.path.join(d.data, "hikeshi.db"))
    queued = con.execute("SELECT count(*) FROM audit_outbox").fetchone()[0]
    con.close()
    check(queued == 0, "no audit entry left queued (%d)" % queued)
    r = subprocess.run([BIN, "audit", "verify", os.path.join(d.data, "audit.log")],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "intact" in r.stdout,
          "audit verify: %s" % (r.stdout.strip() or r.stderr.strip()))


# ---- /metrics off loopback, in a network namespace -----------------------

NS = "hk-acc-%d" % os.getpid()
ADDR = "10.213.7.1"

# Run inside the namespace: GET /metrics with an optional token, over
# HTTPS when the listener speaks it (a self-signed certificate), else
# plain HTTP; prints the status.
PROBE = r"""
import ssl, sys, urllib.request, urllib.error
url, tok = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
def get(scheme):
    req = urllib.request.Request(scheme + "://" + url)
    if tok:
        req.add_header("Authorization", "Bearer " + tok)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
for scheme in ("https", "http"):
    try:
        print(get(scheme))
        break
    except Exception as e:
        last = e
else:
    print("ERR %s" % last)
"""


def sh(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def metrics_off_loopback():
    if os.geteuid() != 0:
        check(False, "root is needed for the network namespace of the /metrics test")
        return
    work = tempfile.mkdtemp(prefix="hikeshi-e2e-acc-ns-")
    os.chmod(work, 0o755)  # the daemon started as root drops to a user that must get in
    data = os.path.join(work, "var")
    port = free_port()
    conf = os.path.join(work, "hikeshi.yaml")
    with open(conf, "w") as f:
        f.write("data_dir: %s\nhttp:\n  listen: %s:%d\n"
                "sigma:\n  rules: [%s/rules]\n  mappings: %s/rules/config\n"
                "inputs:\n  - name: udp\n    type: syslog-udp\n    listen: 127.0.0.1:%d\n"
                % (data, ADDR, port, DAEMON_SOURCE, DAEMON_SOURCE, free_port()))
    r = subprocess.run([BIN, "user", "add", "-c", conf, "--role", "viewer", "--label",
                        "prometheus", "scraper"], capture_output=True, text=True)
    tok = printed_token(r)
    check(r.returncode == 0 and tok, "user add scraper (viewer) for /metrics")
    proc = None
    log = os.path.join(work, "hikeshi.log")
    try:
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "set", "lo", "up", ns=NS)
        # A veth pair, both ends in the namespace (no dummy module in every
        # container): the address is the host's own, but not loopback.
        sh("ip", "link", "add", "hkacc0", "type", "veth", "peer", "name", "hkacc1", ns=NS)
        sh("ip", "addr", "add", ADDR + "/24", "dev", "hkacc0", ns=NS)
        sh("ip", "link", "set", "hkacc0", "up", ns=NS)
        sh("ip", "link", "set", "hkacc1", "up", ns=NS)
        with open(log, "wb") as lf:
            proc = subprocess.Popen(["ip", "netns", "exec", NS, BIN, "run", "-c", conf],
                                    stdout=lf, stderr=subprocess.STDOUT)

        def text():
            with open(log, errors="replace") as f:
                return f.read()
        ready = wait_for(lambda: "ready: data in" in text() or proc.poll() is not None, 30)
        check(ready and proc.poll() is None,
              "the daemon listens on %s in a namespace%s"
              % (ADDR, "" if proc.poll() is None else ": " + text()[-600:]))
        if proc.poll() is not None:
            return
        url = "%s:%d/metrics" % (ADDR, port)

        def probe(*extra):
            return sh("python3", "-c", PROBE, url, *extra, ns=NS).stdout.strip()
        check(probe() == "401", "/metrics on %s without a token: 401" % ADDR)
        check(probe("hks_" + "A" * 43) == "401", "/metrics with an unknown token: 401")
        check(probe(tok) == "200", "/metrics with a viewer's token: 200")
    except RuntimeError as e:
        check(False, "network namespace for the /metrics test: %s" % e)
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def main():
    d = Daemon(CONFIG)
    try:
        accounts(d)
    finally:
        if d.proc and d.proc.poll() is None:
            d.stop()
    metrics_off_loopback()
    finish()


if __name__ == "__main__":
    main()
