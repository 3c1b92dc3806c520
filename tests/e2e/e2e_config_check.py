"""End to end: the configuration check says what is wrong, where, and only
what is wrong (issue 21).

- `run -n` refuses (exit 2) what `run` would stop on, naming the key, the
  path and why: Sigma rules that are not there, data_dir below a file,
  http and input TLS files that cannot be read, rules that do not load;
  an unknown key is named with its FILE:LINE:COL.  A playbooks directory
  that is not there is a warning (run goes on without it), not an error.
- `run` (and `scan`) on the same files stops with the same reason and
  never claims to be out of memory.
- A rule broken between two SIGHUPs: the reload logs the file and the
  reason, not only a count of refused rules, and the rules that load stay
  in force."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, DAEMON_SOURCE, Daemon, check, finish, wait_for  # noqa: E402

SRC_RULES = os.path.join(DAEMON_SOURCE, "rules")

BASE = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
sigma:
  rules: [{rules}]
  mappings: {src}/rules/config
incident:
  playbooks: {playbooks}
"""

# A rule with a modifier Sigma does not have: refused at load.
BROKEN_RULE = """title: Broken on purpose
id: 5f1e6a1e-0000-4000-8000-00000000e2e1
logsource:
  product: linux
  service: sshd
detection:
  sel:
    message|nosuchmod: x
  condition: sel
level: low
"""


def run(args, timeout=60):
    return subprocess.run([os.path.abspath(BIN)] + args, capture_output=True, text=True,
                          timeout=timeout)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def conf(tmp, name, rules=None, data=None, playbooks=None, extra=""):
    text = BASE.format(data=data or os.path.join(tmp, "var"), http=18099,
                       rules=rules or SRC_RULES, src=DAEMON_SOURCE,
                       playbooks=playbooks or os.path.join(DAEMON_SOURCE, "playbooks"))
    return write(os.path.join(tmp, name), text + extra)


def refused(r, what, *needles):
    """run -n: exit 2 and every needle on stderr."""
    return check(r.returncode == 2 and all(n in r.stderr for n in needles),
                 "run -n: %s: exit 2 naming %s (%d: %s)"
                 % (what, ", ".join(needles), r.returncode, r.stderr.strip()[-300:]))


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-cfgcheck-")
    os.chmod(tmp, 0o755)

    good = conf(tmp, "good.yaml")
    r = run(["run", "-n", "-c", good])
    check(r.returncode == 0 and "is valid" in r.stderr,
          "run -n: a configuration whose paths are there is valid (%s)" % r.stderr.strip())

    # Rules that are not there: -n and run both say so, run not "out of memory".
    missing = os.path.join(tmp, "no-such-rules")
    bad = conf(tmp, "norules.yaml", rules=missing)
    refused(run(["run", "-n", "-c", bad]), "sigma.rules not there", "sigma.rules",
            missing, "No such file or directory")
    r = run(["run", "-c", bad], timeout=30)
    check(r.returncode != 0 and missing in r.stderr and "out of memory" not in r.stderr,
          "run: rules not there: stops naming the path, no false 'out of memory' (%d: %s)"
          % (r.returncode, r.stderr.strip()[-300:]))

    r = subprocess.run([os.path.abspath(BIN), "scan", "-c", bad, "-"], input="x\n",
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and missing in r.stderr and "out of memory" not in r.stderr,
          "scan: rules not there: stops naming the path, no false 'out of memory' (%d: %s)"
          % (r.returncode, r.stderr.strip()[-300:]))

    # Mappings that are not there: run says which, not "out of memory".
    nomap = write(os.path.join(tmp, "nomap.yaml"), open(good).read().replace(
        "mappings: %s/rules/config" % DAEMON_SOURCE, "mappings: %s/no-maps" % tmp))
    r = run(["run", "-c", nomap], timeout=30)
    check(r.returncode != 0 and "no-maps" in r.stderr and "out of memory" not in r.stderr,
          "run: mappings not there: stops naming them, no false 'out of memory' (%s)"
          % r.stderr.strip()[-300:])
    refused(run(["run", "-n", "-c", nomap]), "sigma.mappings not there", "no-maps")

    # An empty rules directory: nothing loads; run refuses, so does -n.
    empty = os.path.join(tmp, "empty-rules")
    os.mkdir(empty)
    refused(run(["run", "-n", "-c", conf(tmp, "empty.yaml", rules=empty)]),
            "no rule loads", "no Sigma rules in " + empty, "not valid")

    # data_dir below a regular file.
    afile = write(os.path.join(tmp, "plain-file"), "x\n")
    refused(run(["run", "-n", "-c", conf(tmp, "datadir.yaml",
                                         data=os.path.join(afile, "var"))]),
            "data_dir below a file", "data_dir", afile + " is not a directory")

    # TLS files that cannot be read: http's and an input's.
    nocert = os.path.join(tmp, "absent.crt")
    httptls = write(os.path.join(tmp, "httptls.yaml"), open(good).read().replace(
        "  listen: 127.0.0.1:18099\n",
        "  listen: 127.0.0.1:18099\n  tls_cert: %s\n  tls_key: %s\n" % (nocert, nocert)))
    refused(run(["run", "-n", "-c", httptls]), "http.tls_cert not there", "http.tls_cert",
            nocert)
    ca = write(os.path.join(tmp, "ca.pem"), "")
    refused(run(["run", "-n", "-c", conf(tmp, "intls.yaml", extra=(
        "inputs:\n  - name: relays\n    type: syslog-tls\n    listen: 127.0.0.1:16514\n"
        "    tls:\n      cert: %s\n      key: %s\n      ca: %s\n" % (nocert, nocert, ca)))]),
        "an input's tls.cert not there", "input relays: tls.cert", nocert)

    # An unknown key: named, with its place.
    uk = conf(tmp, "unknown.yaml", extra="bogus_key: 1\n")
    r = run(["run", "-n", "-c", uk])
    line = open(uk).read().splitlines().index("bogus_key: 1") + 1
    check(r.returncode == 2 and ("%s:%d:1: bogus_key: unknown key" % (uk, line)) in r.stderr,
          "run -n: an unknown key is named with FILE:LINE:COL (%s)" % r.stderr.strip())

    # Playbooks not there: a warning, still valid (run goes on without them).
    r = run(["run", "-n", "-c", conf(tmp, "nopb.yaml", playbooks=os.path.join(tmp, "nopb"))])
    check(r.returncode == 0 and "playbooks in %s: No such file" % os.path.join(tmp, "nopb")
          in r.stderr and "1 fault in the incident files" in r.stderr and "is valid" in r.stderr,
          "run -n: playbooks not there: a warning naming them, still valid (%s)"
          % r.stderr.strip())

    # SIGHUP with a broken rule: the file and the reason in the log.
    rules = os.path.join(tmp, "rules")
    os.mkdir(rules)
    os.chmod(rules, 0o755)
    for name in ("lnx_sshd_root_login_failure.yml", "lnx_sshd_auth_failure.yml",
                 "corr_ssh_bruteforce.yml"):
        shutil.copy(os.path.join(SRC_RULES, name), rules)
        os.chmod(os.path.join(rules, name), 0o644)
    d = Daemon(BASE.replace("{rules}", rules).replace(
        "{playbooks}", os.path.join(DAEMON_SOURCE, "playbooks")) +
        "inputs:\n  - name: tcp\n    type: syslog-tcp\n    listen: 127.0.0.1:{port}\n")
    d.start()
    broken = write(os.path.join(rules, "broken.yml"), BROKEN_RULE)
    os.chmod(broken, 0o644)
    d.signal(signal.SIGHUP)
    ok = wait_for(lambda: "SIGHUP: reloaded" in d.read_log(), timeout=20)
    log = d.read_log()
    mine = [l for l in log.splitlines() if "broken.yml" in l]
    check(ok and mine and any("nosuchmod" in l and "[warn]" in l for l in mine),
          "SIGHUP: the broken rule is logged as a warning with its file and reason (%s)"
          % (mine or log[-500:]))
    check("1 refused" in log and "SIGHUP: reloaded" in log,
          "SIGHUP: the reload goes on with the rules that load (1 refused)")
    check(d.stop() == 0, "the daemon stops cleanly")
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
