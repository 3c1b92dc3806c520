"""End to end: least privilege.  The real daemon started as root drops to
an unprivileged user once its ports are bound, with no capabilities,
no_new_privs and a seccomp filter on every thread, while the firewall
helper keeps CAP_NET_ADMIN alone; and it still does its work.

In a network namespace of its own (the host at 10.78.1.1, a client at
10.78.1.2 behind a veth pair) the test runs the daemon as root with TCP
syslog, HTTP on 127.0.0.1 and a response policy whose approved block goes
to a real nftables set, then:

- every thread of the daemon (/proc/PID/task/*/status): Uid and Gid not 0,
  CapInh/CapPrm/CapEff/CapBnd/CapAmb all 0, NoNewPrivs 1, Seccomp 2;
- the firewall helper: CapEff = CapPrm = CapBnd = CAP_NET_ADMIN only, not
  uid 0, NoNewPrivs 1, Seccomp 2;
- the hot path passes the filter: a record sent over TCP is stored and
  comes back through GET /api/v1/alerts; SIGHUP reloads the rules;
- a block approved through the API lands in the kernel set after the drop
  (the helper's netlink calls pass its own filter) and the webhook of the
  same request is delivered (libcurl in the filtered daemon);
- file modes: data_dir 0750 and every file in it 0640 at most, owned by the
  dropped user; alerts.jsonl, audit.log and the store among them;
- security.seccomp: false leaves the drop but no filter (Seccomp 0);
- started as an unprivileged user with ambient CAP_NET_ADMIN and
  CAP_NET_BIND_SERVICE (as a systemd unit would): every thread drops them,
  the helper keeps CAP_NET_ADMIN and makes its set;
- a data_dir the dropped user cannot reach is refused at start, with a
  sentence naming the user;
- started as an unprivileged user on a store file of root's (made by a
  command run as root): refused, naming the file, its owner and the chown.

Needs root (namespaces, nftables, a uid to drop).  Not root: skipped (77).
"""

import http.server
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, Daemon, check, enter_netns, finish, free_port, sh,  # noqa: E402
                     skip, syslog_stamp as stamp, user_add, wait_for)

TAG = "hp%d" % (os.getpid() % 100000)
NS_HOST, NS_CLIENT = TAG + "h", TAG + "c"
HOST, CLIENT = "10.78.1.1", "10.78.1.2"
APPROVE = "10.78.4.4"
CAP_NET_ADMIN = 1 << 12

POLICY = """
dry_run: false
allowlist:
  - {{net: 10.78.3.0/24, note: monitoring network}}
rate: {{actions_per_minute: 30, burst: 10}}
block: {{family: inet, table: {table}, set4: b4, set6: b6, create: true}}
webhook:
  url: http://127.0.0.1:{wh}/hook
  secret_file: webhook.key
  timeout: 2s
  attempts: 2
  backoff: 1s
rules:
  - name: accepted login needs a person
    kind: rule
    rule: [lnx_sshd_login_accepted]
    actions: [block, webhook]
    mode: approve
"""

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
triage:
  config: {src}/rules/config/triage.yaml
respond:
  policy: {dir}/respond.yaml
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 0.0.0.0:{port}
"""

PLAIN = """
data_dir: {data}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
security:
  seccomp: false
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
http:
  listen: 127.0.0.1:{http}
"""


SENDER = r"""
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=5)
s.sendall(open(path, "rb").read())
s.close()
"""


def setup_netns():
    for ns in (NS_HOST, NS_CLIENT):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", TAG + "hc", "netns", NS_HOST, "type", "veth", "peer", "name",
       TAG + "ch", "netns", NS_CLIENT)
    for ns, dev, addr in ((NS_HOST, TAG + "hc", HOST), (NS_CLIENT, TAG + "ch", CLIENT)):
        sh("ip", "addr", "add", addr + "/24", "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)


def teardown_netns():
    for ns in (NS_HOST, NS_CLIENT):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def status(path):
    """The fields of a /proc status file as a dict of strings."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def ids(s, key):
    return [int(x) for x in s[key].split()]


def caps(s, key):
    return int(s[key], 16)


def check_dropped(pid, what, seccomp=2):
    """Every thread of `pid`: not root, no capabilities, no_new_privs, and
    the filter mode `seccomp`.  Returns the uid it runs as."""
    tasks = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    bad = []
    uid = None
    for t in tasks:
        s = status("/proc/%d/task/%s/status" % (pid, t))
        u, g = ids(s, "Uid"), ids(s, "Gid")
        uid = u[0]
        if 0 in u or 0 in g:
            bad.append("%s uid %s gid %s" % (t, u, g))
        for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            if caps(s, k) != 0:
                bad.append("%s %s %s" % (t, k, s[k]))
        if s.get("NoNewPrivs") != "1":
            bad.append("%s NoNewPrivs %s" % (t, s.get("NoNewPrivs")))
        if s.get("Seccomp") != str(seccomp):
            bad.append("%s Seccomp %s" % (t, s.get("Seccomp")))
    check(len(tasks) > 1 and not bad,
          "%s: all %d threads run as uid %s with no capabilities (bounding set too), "
          "NoNewPrivs 1, Seccomp %d%s" % (what, len(tasks), uid, seccomp,
                                          ("; " + ", ".join(bad[:6])) if bad else ""))
    return uid


def helper_pid(pid):
    for c in open("/proc/%d/task/%d/children" % (pid, pid)).read().split():
        try:
            if open("/proc/%s/comm" % c).read().strip() == "hikeshi-fw":
                return int(c)
        except OSError:
            pass
    return None


def in_set(table, addr):
    r = sh("nft", "list", "set", "inet", table, "b4", check_rc=False)
    return r.returncode == 0 and (addr + " ") in r.stdout.replace(",", " ").replace("}", " ")


def api(d, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw.strip() else None
    except urllib.error.HTTPError as e:
        return e.code, None


def send(d, lines):
    path = os.path.join(d.dir, "lines-%d.txt" % time.monotonic_ns())
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    sh(sys.executable, os.path.join(d.dir, "send.py"), HOST, str(d.port), path, ns=NS_CLIENT)


class Hook(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        Hook.got.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def check_modes(d, uid):
    st = os.stat(d.data)
    check(stat.S_IMODE(st.st_mode) == 0o750 and st.st_uid == uid,
          "data_dir is 0750 and belongs to the dropped user (%o, uid %d)"
          % (stat.S_IMODE(st.st_mode), st.st_uid))
    loose = []
    for name in sorted(os.listdir(d.data)):
        s = os.lstat(os.path.join(d.data, name))
        if stat.S_ISREG(s.st_mode) and (s.st_mode & 0o027 or s.st_uid != uid):
            loose.append("%s %o uid %d" % (name, stat.S_IMODE(s.st_mode), s.st_uid))
    names = set(os.listdir(d.data))
    check({"hikeshi.db", "alerts.jsonl", "audit.log"} <= names and not loose,
          "store, alerts.jsonl and audit.log (and every other file in data_dir) are 0640 at "
          "most and the dropped user's: %s" % (", ".join(loose) or sorted(names)))


def run_main():
    table = TAG + "t"
    wh = free_port()
    srv = http.server.HTTPServer(("127.0.0.1", wh), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    d = Daemon(CONFIG)
    with open(os.path.join(d.dir, "respond.yaml"), "w") as f:
        f.write(POLICY.format(wh=wh, table=table))
    with open(os.path.join(d.dir, "webhook.key"), "w") as f:
        f.write("e2e-privilege-key-0123456789abcdef-0123456789\n")
    os.chmod(os.path.join(d.dir, "webhook.key"), 0o600)
    with open(os.path.join(d.dir, "send.py"), "w") as f:
        f.write(SENDER)
    d.start()
    try:
        pid = d.proc.pid
        log = d.read_log()
        check("privileges: now user" in log and "seccomp: system call filter" in log,
              "the daemon says it dropped to a user and installed its filter")
        uid = check_dropped(pid, "daemon")
        check(uid is not None and uid != 0, "the daemon's uid is not 0 (%s)" % uid)

        hp = helper_pid(pid)
        check(hp is not None, "the firewall helper runs as a child (hikeshi-fw)")
        if hp:
            s = status("/proc/%d/status" % hp)
            check(caps(s, "CapEff") == CAP_NET_ADMIN and caps(s, "CapPrm") == CAP_NET_ADMIN
                  and caps(s, "CapBnd") == CAP_NET_ADMIN and caps(s, "CapInh") == 0
                  and caps(s, "CapAmb") == 0,
                  "the helper keeps CAP_NET_ADMIN alone (CapEff %s, CapBnd %s)"
                  % (s["CapEff"], s["CapBnd"]))
            check(0 not in ids(s, "Uid") and s.get("NoNewPrivs") == "1"
                  and s.get("Seccomp") == "2",
                  "the helper is not root, has no_new_privs and its own filter (Uid %s, "
                  "Seccomp %s)" % (s["Uid"], s.get("Seccomp")))

        # The hot path through the filter: TCP in, stored, out through the API.
        admin = user_add(d, "pat", "analyst")
        send(d, ["<38>%s gate sshd[4242]: Failed password for root from 203.0.113.77 port "
                 "4242 ssh2" % stamp()])
        found = wait_for(lambda: (api(d, "GET", "/api/v1/alerts?entity=203.0.113.77",
                                      admin)[1] or {}).get("total", 0) >= 1, timeout=15)
        st, got = api(d, "GET", "/api/v1/alerts?entity=203.0.113.77", admin)
        check(found and st == 200,
              "a record sent over TCP after the drop comes back from GET /api/v1/alerts "
              "(%s, total %s)" % (st, (got or {}).get("total")))

        d.signal(signal.SIGHUP)
        check(wait_for(lambda: "SIGHUP: reloaded" in d.read_log(), timeout=15),
              "SIGHUP reloads the rules and settings as the dropped user under the filter")

        # An approved block, through the helper, after the drop.
        send(d, ["<38>%s gate sshd[8000]: Accepted password for root from %s port 41000 ssh2"
                 % (stamp(), APPROVE)])
        wait_for(lambda: (api(d, "GET", "/api/v1/responses?state=pending", admin)[1]
                          or {}).get("responses"), timeout=15)
        _, got = api(d, "GET", "/api/v1/responses?state=pending", admin)
        pend = [r for r in (got or {}).get("responses", []) if r.get("address") == APPROVE]
        check(len(pend) == 1, "the accepted login waits for approval")
        st, _ = api(d, "POST", "/api/v1/responses/%d/approve" % (pend[0]["id"] if pend else 0),
                    admin, {"note": "privilege test"})
        check(st == 200, "an analyst approves (%s)" % st)
        check(wait_for(lambda: in_set(table, APPROVE), timeout=10),
              "after the drop the approved block lands in the kernel set")
        check(wait_for(lambda: len(Hook.got) >= 1, timeout=15)
              and APPROVE.encode() in Hook.got[0],
              "the webhook of the approved request is delivered by the filtered daemon "
              "(%d requests)" % len(Hook.got))

        check_modes(d, uid)
        check("dropping privileges" not in d.read_log(), "no drop error in the log")
    finally:
        rc = d.stop()
        sh("nft", "delete", "table", "inet", table, check_rc=False)
    check(rc == 0, "the daemon stops cleanly under the filter (%d)" % rc)


def run_plain():
    d = Daemon(PLAIN)
    d.start()
    try:
        check("security.seccomp is false" in d.read_log(),
              "security.seccomp: false is said in the log")
        check_dropped(d.proc.pid, "daemon with security.seccomp: false", seccomp=0)
    finally:
        rc = d.stop()
    check(rc == 0, "stops cleanly (%d)" % rc)


def run_nonroot():
    # The systemd way: started as an unprivileged user with ambient
    # CAP_NET_ADMIN (for the helper) and CAP_NET_BIND_SERVICE.  The uid
    # stays; the daemon's threads drop both, the helper keeps the first.
    import harness
    table = TAG + "n"
    d = Daemon(CONFIG)
    with open(os.path.join(d.dir, "respond.yaml"), "w") as f:
        f.write(POLICY.format(wh=free_port(), table=table))
    with open(os.path.join(d.dir, "webhook.key"), "w") as f:
        f.write("e2e-privilege-key-0123456789abcdef-0123456789\n")
    os.chmod(os.path.join(d.dir, "webhook.key"), 0o644)
    os.makedirs(d.data, mode=0o750)
    os.chown(d.data, 65534, 65534)
    wrapper = os.path.join(d.dir, "as-nobody.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups "
                "--inh-caps=+net_admin,+net_bind_service "
                "--ambient-caps=+net_admin,+net_bind_service %s \"$@\"\n"
                % os.path.abspath(BIN))
    os.chmod(wrapper, 0o755)
    saved, harness.BIN = harness.BIN, wrapper
    try:
        d.start()
    finally:
        harness.BIN = saved
    try:
        check("not started as root" in d.read_log(),
              "started as uid 65534 with ambient capabilities: the daemon says so")
        pid = d.proc.pid
        bad = []
        for t in os.listdir("/proc/%d/task" % pid):
            s = status("/proc/%d/task/%s/status" % (pid, t))
            if (ids(s, "Uid")[0] != 65534 or caps(s, "CapEff") or caps(s, "CapPrm")
                    or caps(s, "CapAmb") or caps(s, "CapInh") or s.get("NoNewPrivs") != "1"
                    or s.get("Seccomp") != "2"):
                bad.append(t)
        check(not bad, "every thread keeps uid 65534 and drops its ambient capabilities, "
              "NoNewPrivs 1, Seccomp 2 (%s)" % (bad or "all"))
        hp = helper_pid(pid)
        s = status("/proc/%d/status" % hp) if hp else {}
        check(hp is not None and caps(s, "CapEff") == CAP_NET_ADMIN
              and caps(s, "CapPrm") == CAP_NET_ADMIN and caps(s, "CapAmb") == 0,
              "its firewall helper keeps CAP_NET_ADMIN alone (CapEff %s)" % s.get("CapEff"))
        r = sh("nft", "list", "set", "inet", table, "b4", check_rc=False)
        check(r.returncode == 0, "that helper made its nftables set with the capability")
    finally:
        rc = d.stop()
        sh("nft", "delete", "table", "inet", table, check_rc=False)
    check(rc == 0, "stops cleanly (%d)" % rc)


def run_unreachable():
    # A data_dir below a directory only root may enter.
    top = tempfile.mkdtemp(prefix="hikeshi-priv-")
    os.chmod(top, 0o700)
    d = Daemon(PLAIN.replace("{data}", os.path.join(top, "var")))
    try:
        d.start()
        started = True
    except RuntimeError:
        started = False
    if started:
        d.stop()
    log = d.read_log()
    check(not started and "not usable by user" in log and os.path.join(top, "var") in log,
          "a data_dir the dropped user cannot reach is refused at start, naming it")


def run_foreign_store():
    # Started by systemd as its user on a store someone made as root
    # (`hikeshi user add` without sudo -u): refused, saying whose the file is
    # and what to run, not SQLite's "unable to open database file".
    import harness
    d = Daemon(PLAIN)
    os.makedirs(d.data, mode=0o750)
    os.chown(d.data, 65534, 65534)
    db = os.path.join(d.data, "hikeshi.db")
    with open(db, "w"):
        pass
    os.chmod(db, 0o640)
    wrapper = os.path.join(d.dir, "as-nobody.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s \"$@\"\n"
                % os.path.abspath(BIN))
    os.chmod(wrapper, 0o755)
    saved, harness.BIN = harness.BIN, wrapper
    try:
        d.start()
        started = True
    except RuntimeError:
        started = False
    finally:
        harness.BIN = saved
    if started:
        d.stop()
    log = d.read_log()
    check(not started and "%s belongs to root (uid 0" % db in log
          and "chown -R nobody: %s" % d.data in log and "sudo -u nobody" in log,
          "a store file of root's, the daemon started as another user: refused, naming the "
          "file, its owner and the chown (%s)" % [l for l in log.splitlines() if "belongs" in l])


def main():
    if os.geteuid() != 0:
        skip("needs root: it checks the drop from root and creates namespaces")
    try:
        setup_netns()
    except (RuntimeError, FileNotFoundError) as e:
        teardown_netns()
        skip("cannot create network namespaces here: %s" % e)
    try:
        r = sh("nft", "add", "table", "inet", TAG + "p", ns=NS_HOST, check_rc=False)
        if r.returncode != 0:
            skip("the kernel has no usable nftables: %s" % r.stderr.strip())
        sh("nft", "delete", "table", "inet", TAG + "p", ns=NS_HOST)
        enter_netns(NS_HOST)
        run_main()
        run_plain()
        run_nonroot()
        run_unreachable()
        run_foreign_store()
    finally:
        teardown_netns()
    finish()


if __name__ == "__main__":
    main()
