"""End to end for the Debian package: built, installed, and serving its rules.

- `dpkg-buildpackage -us -uc -b` builds the package from a copy of the
  source tree (the files git knows, plus Chart.js from web/node_modules) in
  a temporary directory, with two jobs; lintian finds no error or warning.
- Under systemd: this machine's own system, as an overlay of / on a tmpfs
  (the host is left alone; what an earlier hikeshi left in /var/lib/hikeshi
  and /etc/hikeshi hidden), boots in a container (systemd-nspawn, private
  network); there `dpkg -i` installs the package and enables the unit,
  `systemctl start hikeshi` runs the daemon as hikeshi with no capability,
  no_new_privs and seccomp, its data 0750/0640; a token from `runuser -u
  hikeshi -- hikeshi user add` lists every shipped rule over the API, a
  record raises an alert, `systemctl reload` reloads, `systemctl stop`
  exits 0, `systemd-analyze security` rates the unit below 3.0; with
  blocking on, the forked firewall helper holds CAP_NET_ADMIN alone and
  makes its nftables table while the daemon holds nothing; with its
  rules moved away the unit fails with status 2 and is not restarted.
- `dpkg -i` installs it for real (this runs as root on a throwaway machine
  in CI): the system user hikeshi and /var/lib/hikeshi (0750, its own) are
  made, the rules, mappings, triage options, response policy and playbooks
  are under /usr/share/hikeshi where the installed binary looks
  (`run -n -v` prints the paths it resolved, from / as its cwd), the
  configuration is /etc/hikeshi/hikeshi.yaml with data_dir /var/lib/hikeshi,
  and `systemd-analyze verify` finds nothing to say about the unit.
- The installed daemon, on the packaged configuration with a temporary
  data_dir and free ports (PID 1 is not systemd here, so it is started
  directly, as root, from /): it loads every bundled rule (the rule list of
  GET /api/v1/rules is as long as the *.yml files shipped), an SSH login
  failure for root sent over TCP syslog raises the bundled rule's alert,
  SIGHUP (the unit's ExecReload) reloads the rules (and keeps them when
  the new ones are gone), logrotate with the
  packaged file (copytruncate) rotates alerts.jsonl under the running
  daemon and the next alert lands at the start of the emptied file.
- Started as the unit makes systemd start it (setpriv: user hikeshi, the
  unit's two ambient capabilities, no_new_privs, umask 0027), it binds a
  syslog port below 1024, then holds no capability, and alerts.jsonl is
  neither group-writable nor world-readable.
- Without rules it refuses to start (exit 2) saying where it looked: the
  package's rules directory moved away, and a configuration naming an
  empty rules directory.
- `dpkg --purge` removes it again; what the test itself made (the user,
  the empty /var/lib/hikeshi) goes too.

Needs root, dpkg-dev, debhelper, lintian, logrotate, systemd and
systemd-container (./dev.sh installs them); refuses to run where a package hikeshi is already
installed rather than replace it."""

import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import SOURCE, check, finish, free_port, wait_for  # noqa: E402

PKG = "hikeshi"
DATADIR = "/usr/share/hikeshi"
SBIN = "/usr/sbin/hikeshi"
CONF = "/etc/hikeshi/hikeshi.yaml"
UNIT = "/lib/systemd/system/hikeshi.service"
LOGROTATE = "/etc/logrotate.d/hikeshi"
STATE = "/var/lib/hikeshi"
CHARTJS = "web/node_modules/chart.js/dist/chart.umd.js"
SSH_ROOT_FAIL = "sshd[42]: Failed password for root from 203.0.113.9 port 4242 ssh2"


def sh(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(args, **kw)


def source_copy(dst):
    """The files git knows (tracked, and new ones not ignored) and Chart.js,
    as a clean tree without build directories."""
    r = sh(["git", "-C", SOURCE, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if not check(r.returncode == 0, "git ls-files in the source tree (%s)" % r.stderr.strip()):
        return False
    names = [n for n in r.stdout.split("\0") if n]
    names.append(CHARTJS)
    for n in names:
        src = os.path.join(SOURCE, n)
        if not os.path.isfile(src):  # deleted in the work tree, or a submodule
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, n)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, n))
    return check(os.path.isfile(os.path.join(dst, CHARTJS)),
                 "Chart.js is in web/node_modules (npm ci in web/) for the package to embed")


def build(tmp):
    src = os.path.join(tmp, "hikeshi")
    os.makedirs(src)
    if not source_copy(src):
        return None
    t0 = time.time()
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2")
    with open(os.path.join(tmp, "build.log"), "w") as log:
        r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                           stdout=log, stderr=subprocess.STDOUT, timeout=900)
    debs = glob.glob(os.path.join(tmp, "hikeshi_*.deb"))
    if not check(r.returncode == 0 and len(debs) == 1,
                 "dpkg-buildpackage -us -uc -b builds hikeshi_*.deb in %.0f s" % (time.time() - t0)):
        with open(os.path.join(tmp, "build.log")) as f:
            print(f.read()[-6000:])
        return None
    changes = glob.glob(os.path.join(tmp, "hikeshi_*.changes"))
    r = sh(["lintian", "--fail-on", "none"] + changes)
    bad = [l for l in r.stdout.splitlines() if re.match(r"[EW]: ", l)]
    check(r.returncode == 0 and not bad,
          "lintian: no error or warning on the package (%s)" % ("; ".join(bad[:5]) or "clean"))
    return debs[0]


def check_installed():
    """Files where the installed binary looks, the user, the state dir."""
    try:
        pw = pwd.getpwnam("hikeshi")
        check(pw.pw_uid != 0 and pw.pw_dir == STATE,
              "postinst made the system user hikeshi (uid %d, home %s)" % (pw.pw_uid, pw.pw_dir))
    except KeyError:
        check(False, "postinst made the system user hikeshi")
        pw = None
    st = os.stat(STATE) if os.path.isdir(STATE) else None
    check(st is not None and pw is not None and st.st_uid == pw.pw_uid and
          (st.st_mode & 0o777) == 0o750,
          "%s belongs to hikeshi, mode 0750 (%s)" % (STATE, oct(st.st_mode & 0o777) if st else "absent"))
    shipped = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SOURCE, "rules", "*.yml")))
    installed = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DATADIR, "rules", "*.yml")))
    check(shipped and installed == shipped,
          "every rule of rules/*.yml is in %s/rules (%d of %d)" % (DATADIR, len(installed), len(shipped)))
    books = sorted(os.listdir(os.path.join(SOURCE, "playbooks")))
    check(sorted(os.listdir(os.path.join(DATADIR, "playbooks"))) == books,
          "the playbooks are in %s/playbooks (%d)" % (DATADIR, len(books)))
    with open(CONF) as f:
        conf = f.read()
    check(re.search(r"(?m)^data_dir: /var/lib/hikeshi$", conf) is not None,
          "%s keeps its data in /var/lib/hikeshi" % CONF)
    # Where the installed binary looks: the paths it resolves with / as cwd.
    r = sh([SBIN, "run", "-n", "-v", "-c", CONF], cwd="/")
    if not check(r.returncode == 0, "%s run -n -v -c %s: exit 0 (%s)" % (SBIN, CONF, r.stderr.strip())):
        return
    want = {
        "rules": DATADIR + "/rules",
        "mappings": DATADIR + "/rules/config",
        "config": DATADIR + "/rules/config/triage.yaml",
        "policy": DATADIR + "/rules/config/respond.yaml",
        "playbooks": DATADIR + "/playbooks",
    }
    for key, path in want.items():
        # `key: "path"`, or a list: `key:` then `- "path"` lines.
        m = re.search(r'(?m)^\s+%s:(?: "([^"\n]+)"|\n\s+- "([^"\n]+)")' % key, r.stdout)
        got = (m.group(1) or m.group(2)) if m else None
        check(got == path and os.path.exists(path),
              "the installed binary takes %s from %s, which the package installed (%s)" % (key, path, got))
    r = sh(["systemd-analyze", "verify", UNIT])
    check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
          "systemd-analyze verify %s: clean (%s)" % (UNIT, (r.stdout + r.stderr).strip() or "no output"))
    with open(UNIT) as f:
        unit = f.read()
    for line in ("ExecStart=%s run -c %s" % (SBIN, CONF), "User=hikeshi", "StateDirectory=hikeshi",
                 "ProtectSystem=strict", "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID"):
        check(re.search(r"(?m)^%s$" % re.escape(line), unit) is not None, "the unit says " + line)


def packaged_config(work, data, port, http):
    """The packaged configuration with a temporary data_dir and free ports."""
    with open(CONF) as f:
        text = f.read()
    text = re.sub(r"(?m)^data_dir: .*$", "data_dir: " + data, text)
    text = text.replace("127.0.0.1:8080", "127.0.0.1:%d" % http)
    text = text.replace("127.0.0.1:5514", "127.0.0.1:%d" % port)
    path = os.path.join(work, "hikeshi.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def refuses(args, what, must_name):
    """hikeshi run exits 2 with an error naming `must_name`."""
    try:
        r = sh(args, cwd="/", timeout=60)
    except subprocess.TimeoutExpired:
        check(False, what + ": exits instead of running")
        return
    err = r.stderr + r.stdout
    check(r.returncode == 2 and "no Sigma rules in " + must_name in err and "refusing" in err,
          "%s: exit 2 naming %s (exit %d: %s)" % (what, must_name, r.returncode,
                                                  err.strip().splitlines()[-1:] or ""))


def get(http, path, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http, path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())


def send_tcp(port, msg):
    line = "<38>Dec  6 12:00:00 web1 %s\n" % msg
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(line.encode())


def read_log(path):
    with open(path, errors="replace") as f:
        return f.read()


def alerts_in(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def run_installed(tmp):
    work = os.path.join(tmp, "run")
    os.makedirs(work)
    os.chmod(tmp, 0o755)  # the daemon may drop to hikeshi: it must reach its data_dir
    os.chmod(work, 0o755)
    data = os.path.join(work, "var")
    port, http = free_port(), free_port()
    conf = packaged_config(work, data, port, http)

    # No rules where the package put them: refused, saying where.
    aside = DATADIR + "/rules.e2e-aside"
    os.rename(DATADIR + "/rules", aside)
    try:
        refuses([SBIN, "run", "-c", conf], "the package's rules moved away", DATADIR + "/rules")
    finally:
        os.rename(aside, DATADIR + "/rules")
    # A configuration naming an empty rules directory.
    empty = os.path.join(work, "empty-rules")
    os.makedirs(empty)
    with open(conf) as f:
        text = f.read()
    bad = os.path.join(work, "empty.yaml")
    with open(bad, "w") as f:
        f.write(text + "sigma:\n  rules: [%s]\n  mappings: %s/rules/config\n" % (empty, DATADIR))
    refuses([SBIN, "run", "-c", bad], "sigma.rules names an empty directory", empty)

    # An API token made with the installed binary before the daemon starts.
    r = sh([SBIN, "user", "add", "-c", conf, "--role", "viewer", "pkgprobe"], cwd="/")
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    check(r.returncode == 0 and len(tok) == 1, "hikeshi user add with the installed binary")

    log = os.path.join(work, "hikeshi.log")
    logf = open(log, "ab")
    proc = subprocess.Popen([SBIN, "run", "-c", conf], cwd="/", stdout=logf, stderr=subprocess.STDOUT)
    try:
        ready = wait_for(lambda: proc.poll() is not None or "ready: data in" in read_log(log), 30)
        m = re.search(r"ready: data in .*, (\d+) rules", read_log(log))
        nrules = int(m.group(1)) if m else 0
        if not check(ready and proc.poll() is None and nrules > 0,
                     "the installed daemon starts on the packaged configuration with %d rules" % nrules):
            print(read_log(log))
            return
        if tok:
            # Detection rules and correlations, one per shipped file.
            shipped = len(glob.glob(os.path.join(DATADIR, "rules", "*.yml")))
            rules = get(http, "/api/v1/rules", tok[0])
            check(rules.get("count") == shipped == len(rules.get("rules", [])),
                  "GET /api/v1/rules lists every shipped rule and correlation (%s of %d)" % (
                      rules.get("count"), shipped))
        health = get(http, "/api/v1/health")
        check(health.get("status") == "ok", "GET /api/v1/health: ok")

        alerts = os.path.join(data, "alerts.jsonl")
        send_tcp(port, SSH_ROOT_FAIL)
        check(wait_for(lambda: b"SSH Login Failure for Root" in alerts_in(alerts), 15),
              "an SSH login failure for root raises the bundled rule's alert in alerts.jsonl")

        # The unit's ExecReload.
        proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: re.search(r"SIGHUP: reloaded .* \((\d+) rules\)", read_log(log)), 15),
              "SIGHUP reloads the rules")

        # A reload that finds no rules keeps the running ones.
        os.rename(DATADIR + "/rules", aside)
        try:
            proc.send_signal(signal.SIGHUP)
            check(wait_for(lambda: re.search(r"no Sigma rules in %s/rules: keeping the %d running"
                                             % (re.escape(DATADIR), nrules), read_log(log)), 15),
                  "SIGHUP with the rules moved away keeps the %d running rules" % nrules)
        finally:
            os.rename(aside, DATADIR + "/rules")
        rotate(work, alerts, port)
        check(proc.poll() is None, "the daemon still runs after the rotation")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
        check(rc == 0, "SIGTERM: the installed daemon exits 0 (%s)" % rc)


def low_port():
    """A port below 1024 free for TCP and UDP on 127.0.0.1."""
    for port in range(990, 700, -1):
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                try:
                    s.bind(("127.0.0.1", port))
                finally:
                    s.close()
            return port
        except OSError:
            continue
    raise RuntimeError("no free port below 1024")


def caps_of(pid):
    """Uid, NoNewPrivs and the capability sets of /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"):
                out[k] = v.split()[0]
    return out


def run_as_unit(tmp):
    """The installed daemon started the way the unit makes systemd start
    it: user hikeshi, ambient and bounding capabilities CAP_NET_ADMIN and
    CAP_NET_BIND_SERVICE only, no_new_privs, umask 0027, a data_dir its own
    (StateDirectory=), a syslog port below 1024.  It binds, then holds no
    capability at all."""
    with open(UNIT) as f:
        unit = f.read()
    m = re.search(r"(?m)^AmbientCapabilities=(.*)$", unit)
    caps = m.group(1).split() if m else []
    check(sorted(caps) == ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"] and
          re.search(r"(?m)^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE$", unit),
          "the unit grants CAP_NET_ADMIN and CAP_NET_BIND_SERVICE and bounds to them (%s)" % caps)
    work = os.path.join(tmp, "unit")
    data = os.path.join(work, "var")
    os.makedirs(data)
    os.chmod(work, 0o755)
    pw = pwd.getpwnam("hikeshi")
    os.chown(data, pw.pw_uid, pw.pw_gid)
    os.chmod(data, 0o750)
    port, http = low_port(), free_port()
    conf = packaged_config(work, data, port, http)
    setcaps = ",".join("+" + c[4:].lower() for c in caps)
    log = os.path.join(work, "hikeshi.log")
    logf = open(log, "ab")
    proc = subprocess.Popen(
        ["setpriv", "--reuid=hikeshi", "--regid=hikeshi", "--init-groups",
         "--inh-caps=" + setcaps, "--ambient-caps=" + setcaps,
         "--bounding-set=-all," + setcaps, "--no-new-privs", SBIN, "run", "-c", conf],
        cwd="/", stdout=logf, stderr=subprocess.STDOUT, preexec_fn=lambda: os.umask(0o027))
    try:
        ready = wait_for(lambda: proc.poll() is not None or "ready: data in" in read_log(log), 30)
        if not check(ready and proc.poll() is None,
                     "as the unit starts it (user hikeshi, two ambient capabilities), the "
                     "installed daemon starts and binds syslog to port %d" % port):
            print(read_log(log))
            return
        st = caps_of(proc.pid)
        check(st.get("Uid") == str(pw.pw_uid) and st.get("NoNewPrivs") == "1" and
              all(int(st.get(k, "1"), 16) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")),
              "then it holds no capability, as user hikeshi with no_new_privs (%s)" % st)
        alerts = os.path.join(data, "alerts.jsonl")
        send_tcp(port, SSH_ROOT_FAIL)
        check(wait_for(lambda: b"SSH Login Failure for Root" in alerts_in(alerts), 15),
              "a record on the port below 1024 raises the bundled rule's alert")
        mode = os.stat(alerts).st_mode & 0o777 if os.path.exists(alerts) else None
        check(mode is not None and mode & 0o027 == 0,
              "alerts.jsonl is not writable by the group nor readable by others (%s)" % (
                  oct(mode) if mode is not None else "absent"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)


# Runs inside the container at boot (a oneshot unit): installs the package,
# drives hikeshi.service with systemctl, writes what it saw as JSON.
PROBE = r"""#!/usr/bin/python3
import json, os, pwd, re, shutil, socket, subprocess, time, urllib.request
out = {}
def run(*a):
    return subprocess.run(list(a), capture_output=True, text=True)
def show(*props):
    r = run("systemctl", "show", "hikeshi.service", *["-p" + p for p in props])
    return dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
def journal():
    return run("journalctl", "-u", "hikeshi.service", "--no-pager", "-o", "cat").stdout
def wait(pred, t=20):
    end = time.time() + t
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()
try:
    r = run("dpkg", "-i", "/hikeshi-e2e/hikeshi.deb")
    out["dpkg"] = r.returncode
    out["uid"] = str(pwd.getpwnam("hikeshi").pw_uid)
    run("systemctl", "daemon-reload")
    out["enabled"] = run("systemctl", "is-enabled", "hikeshi.service").stdout.strip()
    out["start"] = run("systemctl", "start", "hikeshi.service").returncode
    out["ready"] = wait(lambda: "ready: data in" in journal())
    st = show("MainPID", "ActiveState", "SubState", "NRestarts")
    out["state"] = st
    with open("/proc/%s/status" % st["MainPID"]) as f:
        out["status"] = {k: v.split()[0] for k, _, v in (l.partition(":") for l in f)
                         if k in ("Uid", "CapInh", "CapPrm", "CapEff", "CapAmb",
                                  "NoNewPrivs", "Seccomp")}
    out["files"] = {n: oct(os.stat("/var/lib/hikeshi/" + n).st_mode & 0o777)
                    for n in os.listdir("/var/lib/hikeshi")}
    out["dirmode"] = oct(os.stat("/var/lib/hikeshi").st_mode & 0o777)
    r = run("runuser", "-u", "hikeshi", "--", "hikeshi", "user", "add", "-c",
            "/etc/hikeshi/hikeshi.yaml", "--role", "viewer", "probe")
    tok = [l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("token: ")]
    if tok:
        req = urllib.request.Request("http://127.0.0.1:8080/api/v1/rules",
                                     headers={"Authorization": "Bearer " + tok[0]})
        out["rules"] = json.loads(urllib.request.urlopen(req, timeout=10).read())["count"]
    s = socket.create_connection(("127.0.0.1", 5514), timeout=5)
    s.sendall(b"<38>Dec  6 12:00:00 web1 sshd[42]: Failed password for root from "
              b"203.0.113.9 port 4242 ssh2\n")
    s.close()
    out["alert"] = wait(lambda: "SSH Login Failure for Root" in
                        open("/var/lib/hikeshi/alerts.jsonl").read(), 15)
    out["reload"] = run("systemctl", "reload", "hikeshi.service").returncode
    out["reloaded"] = wait(lambda: "SIGHUP: reloaded" in journal())
    out["stop"] = run("systemctl", "stop", "hikeshi.service").returncode
    out["stopped"] = show("Result", "ExecMainStatus")
    r = run("systemd-analyze", "security", "--no-pager", "hikeshi.service")
    m = re.search(r"Overall exposure level for hikeshi.service: ([0-9.]+)", r.stdout)
    out["exposure"] = float(m.group(1)) if m else None
    # Blocking on (dry_run false, an allowlist): the daemon forks the
    # firewall helper, which keeps CAP_NET_ADMIN alone (the unit's ambient
    # capability) and makes its nftables table; the daemon holds nothing.
    pol = open("/usr/share/hikeshi/rules/config/respond.yaml").read()
    pol = pol.replace("dry_run: true", "dry_run: false").replace(
        "allowlist: []", "allowlist: [{net: 192.0.2.1, note: e2e}]")
    with open("/etc/hikeshi/respond-e2e.yaml", "w") as f:
        f.write(pol)
    with open("/etc/hikeshi/hikeshi.yaml", "a") as f:
        f.write("respond:\n  policy: /etc/hikeshi/respond-e2e.yaml\n")
    run("journalctl", "--rotate")
    out["block_start"] = run("systemctl", "restart", "hikeshi.service").returncode
    wait(lambda: journal().count("ready: data in") >= 2)
    main = show("MainPID")["MainPID"]
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == main:
                        kids.append(d)
            except (OSError, IndexError):
                pass
    def cap(pid, k):
        with open("/proc/%s/status" % pid) as f:
            return [l.split()[1] for l in f if l.startswith(k + ":")][0]
    out["block_main_eff"] = cap(main, "CapEff")
    out["block_helpers_eff"] = [cap(k, "CapEff") for k in kids]
    out["block_table"] = run("nft", "list", "table", "inet", "hikeshi").returncode
    run("systemctl", "stop", "hikeshi.service")
    # No rules: the unit fails at once with status 2, and is not restarted.
    os.rename("/usr/share/hikeshi/rules", "/usr/share/hikeshi/rules.aside")
    run("systemctl", "reset-failed", "hikeshi.service")
    out["norules_start"] = run("systemctl", "start", "hikeshi.service").returncode
    wait(lambda: show("ActiveState")["ActiveState"] in ("failed", "inactive"), 15)
    time.sleep(6)  # past RestartSec: a restart would show in NRestarts
    out["norules"] = show("ActiveState", "ExecMainStatus", "NRestarts")
    out["norules_said"] = "no Sigma rules in /usr/share/hikeshi/rules" in journal()
except Exception as e:
    out["error"] = repr(e)
out["journal"] = journal()[-3000:]
with open("/hikeshi-e2e/result.json", "w") as f:
    json.dump(out, f)
run("systemctl", "poweroff", "--no-block")
"""

PROBE_UNIT = """[Unit]
Description=hikeshi e2e_package probe
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/hikeshi-e2e/probe.py
"""


def run_under_systemd(deb, tmp):
    """Boots this machine's own system (an overlay of / on a tmpfs, so the
    host is left alone) under systemd in a container with a private network,
    installs the package there and starts hikeshi.service with systemctl."""
    base = tempfile.mkdtemp(prefix="hikeshi-e2e-ns-", dir="/run")
    root = os.path.join(base, "root")
    mounted = []
    try:
        r = sh(["mount", "-t", "tmpfs", "-o", "size=1G", "tmpfs", base])
        if not check(r.returncode == 0, "a tmpfs for the container's overlay (%s)" % r.stderr.strip()):
            return
        mounted.append(base)
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(base, d))
        r = sh(["mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=/,upperdir=%s/upper,workdir=%s/work" % (base, base), root])
        if not check(r.returncode == 0, "an overlay of / for the container (%s)" % r.stderr.strip()):
            return
        mounted.append(root)
        # A fresh machine: what an earlier hikeshi left on the host (a
        # database made by `hikeshi user add` run as root, say) is hidden
        # from the container (a whiteout in the overlay; the host keeps it).
        for left in (STATE, "/etc/hikeshi"):
            shutil.rmtree(root + left, ignore_errors=True)
        os.makedirs(os.path.join(root, "hikeshi-e2e"), exist_ok=True)
        shutil.copy(deb, os.path.join(root, "hikeshi-e2e", "hikeshi.deb"))
        probe = os.path.join(root, "hikeshi-e2e", "probe.py")
        with open(probe, "w") as f:
            f.write(PROBE)
        os.chmod(probe, 0o755)
        units = os.path.join(root, "etc", "systemd", "system")
        with open(os.path.join(units, "hikeshi-e2e-probe.service"), "w") as f:
            f.write(PROBE_UNIT)
        wants = os.path.join(units, "multi-user.target.wants")
        os.makedirs(wants, exist_ok=True)
        os.symlink("/etc/systemd/system/hikeshi-e2e-probe.service",
                   os.path.join(wants, "hikeshi-e2e-probe.service"))
        t0 = time.time()
        with open(os.path.join(tmp, "nspawn.log"), "w") as log:
            try:
                r = subprocess.run(
                    ["systemd-nspawn", "-D", root, "--register=no", "--keep-unit",
                     "--link-journal=no", "--private-network", "--uuid=" + os.urandom(16).hex(),
                     "-M", "hikeshi-e2e", "-b"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=240)
                rc = r.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        try:
            with open(os.path.join(root, "hikeshi-e2e", "result.json")) as f:
                res = json.load(f)
        except (OSError, ValueError):
            res = None
        if not check(res is not None and "error" not in res,
                     "systemd booted in a container (systemd-nspawn, exit %s, %.0f s) and ran the "
                     "probe (%s)" % (rc, time.time() - t0, (res or {}).get("error", "ok"))):
            with open(os.path.join(tmp, "nspawn.log"), errors="replace") as f:
                print(f.read()[-4000:])
            if res:
                print(res.get("journal", ""))
            return
        st, ps = res.get("state", {}), res.get("status", {})
        check(res.get("dpkg") == 0 and res.get("enabled") == "enabled",
              "under systemd: dpkg -i installs it, hikeshi.service is enabled")
        check(res.get("start") == 0 and res.get("ready") and st.get("SubState") == "running",
              "systemctl start hikeshi: running and ready (%s)" % st)
        check(ps.get("Uid") == res.get("uid") != "0" and ps.get("NoNewPrivs") == "1" and
              ps.get("Seccomp") == "2" and
              all(int(ps.get(k, "1"), 16) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")),
              "the service runs as hikeshi with no capability, no_new_privs, seccomp (%s)" % ps)
        files = res.get("files", {})
        check(res.get("dirmode") == "0o750" and files and
              all(int(m, 8) & 0o027 == 0 for m in files.values()),
              "/var/lib/hikeshi is 0750, its files neither group-writable nor world-readable "
              "(%s)" % files)
        check(res.get("rules") == len(glob.glob(os.path.join(SOURCE, "rules", "*.yml"))),
              "runuser -u hikeshi -- hikeshi user add: a token; GET /api/v1/rules: %s rules "
              "and correlations" % res.get("rules"))
        check(res.get("alert") is True, "a record over syslog raises the bundled rule's alert")
        check(res.get("reload") == 0 and res.get("reloaded") is True,
              "systemctl reload: the daemon reloads its rules (SIGHUP)")
        check(res.get("stop") == 0 and res.get("stopped") == {"Result": "success", "ExecMainStatus": "0"},
              "systemctl stop: exit 0 (%s)" % res.get("stopped"))
        ex = res.get("exposure")
        check(ex is not None and ex < 3.0,
              "systemd-analyze security: exposure %s (below 3.0, 'OK')" % ex)
        check(res.get("block_start") == 0 and res.get("block_main_eff") == "0000000000000000" and
              res.get("block_helpers_eff") == ["0000000000001000"] and res.get("block_table") == 0,
              "blocking on: the forked firewall helper holds CAP_NET_ADMIN alone and made its "
              "nftables table, the daemon holds nothing (daemon %s, helper %s)" % (
                  res.get("block_main_eff"), res.get("block_helpers_eff")))
        nr = res.get("norules", {})
        check(nr.get("ExecMainStatus") == "2" and nr.get("NRestarts") == "0" and
              nr.get("ActiveState") == "failed" and res.get("norules_said") is True,
              "without its rules the service fails with status 2 saying where it looked, and "
              "is not restarted (%s)" % nr)
    finally:
        for m in reversed(mounted):
            sh(["umount", m])
        try:
            os.rmdir(base)
        except OSError:
            pass


def rotate(work, alerts, port):
    """The packaged logrotate file, pointed at the test's data_dir, rotates
    alerts.jsonl under the running daemon (copytruncate)."""
    with open(LOGROTATE) as f:
        text = f.read()
    check(STATE + "/*.jsonl" in text and re.search(r"(?m)^\s*copytruncate$", text),
          "the logrotate file takes %s/*.jsonl with copytruncate" % STATE)
    st = os.stat(alerts)
    owner = pwd.getpwuid(st.st_uid).pw_name
    # Rotate as the file's owner (hikeshi once the daemon drops to it).
    text = text.replace(STATE + "/", os.path.dirname(alerts) + "/")
    text = re.sub(r"(?m)^(\s*)su \S+ \S+$", r"\1su %s %s" % (owner, owner), text)
    conf = os.path.join(work, "logrotate.conf")
    with open(conf, "w") as f:
        f.write(text)
    before = alerts_in(alerts)
    r = sh(["logrotate", "-f", "-s", os.path.join(work, "logrotate.state"), conf])
    check(r.returncode == 0, "logrotate -f with the packaged file: exit 0 (%s)" % r.stderr.strip())
    rotated = alerts + ".1"
    check(alerts_in(rotated) == before and len(before) > 0,
          "alerts.jsonl.1 holds the alerts written before the rotation (%d bytes)" % len(before))
    check(len(alerts_in(alerts)) < len(before), "alerts.jsonl was emptied in place")
    send_tcp(port, SSH_ROOT_FAIL.replace("203.0.113.9", "203.0.113.77"))
    check(wait_for(lambda: b"203.0.113.77" in alerts_in(alerts), 15),
          "the next alert goes to the emptied alerts.jsonl")
    after = alerts_in(alerts)
    first = after.split(b"\n", 1)[0]
    try:
        ok = b"\0" not in after and json.loads(first.decode()) is not None
    except ValueError:
        ok = False
    check(ok, "it starts at byte 0 of the emptied file: a JSON line, no hole of NULs")


def main():
    if os.geteuid() != 0:
        check(False, "runs as root (dpkg -i; CI runs as root)")
        finish()
    need = ("dpkg-buildpackage", "dh", "lintian", "logrotate", "systemd-analyze", "systemd-nspawn",
            "setpriv")
    tools = [t for t in need
             if check(shutil.which(t) is not None, "%s is installed (./dev.sh installs it)" % t)]
    r = sh(["dpkg-query", "-W", "-f=${Status}", PKG])
    if not check("install ok installed" not in r.stdout,
                 "no package %s installed before the test (it would be replaced)" % PKG) \
            or len(tools) < len(need):
        finish()
    had_user = True
    try:
        pwd.getpwnam("hikeshi")
    except KeyError:
        had_user = False
    had_state = os.path.exists(STATE)

    tmp = tempfile.mkdtemp(prefix="hikeshi-pkg-")
    deb = build(tmp)
    if deb:
        run_under_systemd(deb, tmp)
        r = sh(["dpkg", "-i", deb], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if check(r.returncode == 0, "dpkg -i %s (%s)" % (os.path.basename(deb),
                                                       r.stderr.strip()[-300:] or "ok")):
            try:
                check_installed()
                run_installed(tmp)
                run_as_unit(tmp)
            finally:
                r = sh(["dpkg", "--purge", PKG])
                check(r.returncode == 0 and not os.path.exists(SBIN) and not os.path.exists(DATADIR)
                      and not os.path.exists("/etc/hikeshi"),
                      "dpkg --purge removes the binary, %s and /etc/hikeshi" % DATADIR)
                if not had_state and os.path.isdir(STATE):
                    try:
                        os.rmdir(STATE)  # purge keeps it (evidence); the test made it empty
                    except OSError as e:
                        check(False, "%s is empty after the test (%s)" % (STATE, e))
                if not had_user:
                    sh(["deluser", "--system", "--quiet", "hikeshi"])
                    sh(["delgroup", "--system", "--quiet", "hikeshi"])
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
