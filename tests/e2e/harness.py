"""Helpers for the end-to-end tests: run the real hikeshi binary in a
temporary directory on free loopback ports, talk to it over real sockets,
and read what it stored with SQLite."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ.get("HIKESHI_BIN", "build/hikeshi")
SOURCE = os.environ.get("HIKESHI_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))


def _reachable_by_others(path):
    """1 when every directory from / down to `path` lets others search it:
    the daemon started as root drops to an unprivileged user that reads the
    rules again on SIGHUP."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _daemon_source():
    """The source tree as the daemon reads it.  A clone where the dropped user
    cannot reach (under /root, say) is copied, just the parts a configuration
    names, to a readable temp directory once per test process."""
    if os.geteuid() != 0 or _reachable_by_others(SOURCE):
        return SOURCE
    import shutil
    copy = tempfile.mkdtemp(prefix="hikeshi-e2e-src-")
    os.chmod(copy, 0o755)
    for part in ("rules", "playbooks"):
        shutil.copytree(os.path.join(SOURCE, part), os.path.join(copy, part))
    return copy


DAEMON_SOURCE = _daemon_source()
SHARED = os.environ.get("HIKESHI_SHARED",
                        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))

FAILURES = []


def check(cond, what):
    """Records one assertion; the test reports every failure at the end."""
    if cond:
        print("ok   - " + what)
    else:
        print("FAIL - " + what)
        FAILURES.append(what)
    return cond


def finish():
    """Prints the plain closing line and exits 1 if anything failed."""
    if FAILURES:
        print("%d failed:" % len(FAILURES))
        for f in FAILURES:
            print("  " + f)
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP on 127.0.0.1 at the time of asking."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            u.close()
            return port
        except OSError:
            u.close()
    raise RuntimeError("no free port")


class Daemon:
    """hikeshi run in a temp dir, with a config written from `yaml_text`
    (use {data}, {port} and {http} placeholders)."""

    def __init__(self, yaml_text=None, workdir=None, port=None, http=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="hikeshi-e2e-")
        # Started as root, the daemon drops to an unprivileged user that
        # must still reach its data_dir and read its configuration, rules
        # and followed files here again (mkdtemp makes the directory 0700).
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "var")
        self.port = port or free_port()
        self.http = http or free_port()
        self.conf = os.path.join(self.dir, "hikeshi.yaml")
        self.log = os.path.join(self.dir, "hikeshi.log")
        if yaml_text is None:
            yaml_text = DEFAULT_YAML
        self.write_config(yaml_text)
        self.proc = None

    def write_config(self, yaml_text):
        # hikeshi run refuses to start without rules; a test that names none
        # gets the source tree's (the daemon's cwd here is the build
        # directory, where the default ./rules is not).
        if not re.search(r"(?m)^sigma:", yaml_text):
            yaml_text += SOURCE_RULES_YAML
        with open(self.conf, "w") as f:
            f.write(yaml_text.format(data=self.data, port=self.port, http=self.http,
                                     dir=self.dir, src=DAEMON_SOURCE))

    def start(self, timeout=20):
        # A restart appends to the same log: only this run's "ready" counts.
        seen = len(self.read_log())
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([BIN, "run", "-c", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hikeshi exited %d:\n%s" % (self.proc.returncode,
                                                               self.read_log()))
            if re.search(r"ready: data in", self.read_log()[seen:]):
                return self
            time.sleep(0.05)
        raise RuntimeError("hikeshi did not become ready:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM, wait; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            print(self.read_log())
            raise RuntimeError("hikeshi did not stop within %ds" % timeout)
        self.logf.close()
        return rc

    def db(self):
        con = sqlite3.connect(os.path.join(self.data, "hikeshi.db"))
        con.row_factory = sqlite3.Row
        return con

    def events(self):
        con = self.db()
        rows = con.execute("SELECT * FROM events ORDER BY id").fetchall()
        con.close()
        return rows

    def alerts(self):
        con = self.db()
        rows = con.execute("SELECT * FROM alerts ORDER BY id").fetchall()
        con.close()
        return rows

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http, path),
                                    timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()

    def metric(self, text, name, labels=None):
        """Value of metric `name` (with labels containing `labels`) in a
        Prometheus text exposition, or None."""
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"([a-z0-9_]+)(\{[^}]*\})? (\d+)$", line)
            if not m or m.group(1) != name:
                continue
            if labels and labels not in (m.group(2) or ""):
                continue
            return int(m.group(3))
        return None


# The daemon following {dir}/day.log (the bench generator's day) with the
# bundled rules and triage, events not stored: e2e_incidents, e2e_api.
GEN_DAY_CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
triage:
  config: {src}/rules/config/triage.yaml
store:
  events: false
inputs:
  - name: gen
    type: file
    path: {dir}/day.log
    from_start: true
    poll_ms: 50
"""

# What write_config() adds to a configuration that names no rules.
SOURCE_RULES_YAML = """
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
"""

DEFAULT_YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
"""


def user_add(d, name, role):
    """`hikeshi user add` against the daemon's store; the token it prints
    once (recorded as a check), or "" when it printed none."""
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", role, name],
                       capture_output=True, text=True)
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    check(r.returncode == 0 and len(tok) == 1 and tok[0].startswith("hks_"),
          "user add %s (%s) prints a token once" % (name, role))
    return tok[0] if tok else ""


def promtool_check(text, what):
    """`promtool check metrics` (Debian's prometheus package) over a
    Prometheus text exposition: the names, types and units follow
    Prometheus's conventions.  A check, failed when promtool is missing."""
    try:
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
    except FileNotFoundError:
        return check(False, "%s: promtool check metrics (promtool missing: apt-get install "
                     "prometheus)" % what)
    return check(r.returncode == 0, "%s: promtool check metrics passes (%s)"
                 % (what, (r.stdout + r.stderr).strip() or "no remarks"))


def fields(row):
    return json.loads(row["fields"])


def call(d, method, path, token, body=None):
    """An API request to daemon d with a bearer token: (status, decoded JSON
    body or None), error statuses included."""
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
        return e.code, json.loads(e.read() or b"null")


def wait_for(pred, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# ---- network namespaces and syslog lines, for the tests that need them ----

SYSLOG_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")


def syslog_stamp(t=None):
    """An RFC 3164 timestamp ("Dec  6 23:04:05") of `t` (default: now), UTC."""
    g = time.gmtime(t)
    return "%s %2d %02d:%02d:%02d" % (SYSLOG_MONTHS[g.tm_mon - 1], g.tm_mday, g.tm_hour,
                                      g.tm_min, g.tm_sec)


def sh(*args, check_rc=True, ns=None):
    """Runs a command, in network namespace `ns` when given; raises with its
    stderr when it fails and check_rc is set."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def skip(why):
    """Exits 77 (meson's SKIP, which tests/summary.py counts as a failure)."""
    print("%s: SKIP: %s" % (os.path.basename(sys.argv[0]), why))
    sys.exit(77)


def enter_netns(ns):
    """Moves this (single-threaded) process into network namespace `ns`."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)
