"""The command line: --help for every command, usage errors exit 2, a bad
configuration is reported as FILE:LINE:COL and exits 2, `run -n` checks and
`run -n -v` prints a normal form that checks again, and `audit verify`
checks a hash chain written from the documented format."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SOURCE, check, finish  # noqa: E402


def run(*args, cwd=None):
    return subprocess.run([os.path.abspath(BIN)] + list(args), capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def audit_line(seq, prev, actor, action, obj, details):
    """One audit entry in the canonical form of docs/audit.md."""
    body = ('{"seq":%d,"time":"2026-11-23T12:00:%02d.000000Z","actor":%s,"action":%s,'
            '"object":%s,"details":%s,"prev":"%s"' % (
                seq, seq, json.dumps(actor), json.dumps(action), json.dumps(obj),
                json.dumps(details, separators=(",", ":")), prev)).encode()
    return body + (',"hash":"%s"}' % hashlib.sha256(body).hexdigest()).encode()


def check_audit_verify(tmp):
    """hikeshi audit verify on a chain written independently from the
    documented format: intact, then with one byte changed."""
    path = os.path.join(tmp, "audit.log")
    lines, prev = [], "0" * 64
    for i, (who, act) in enumerate([("alice", "incident.create"), ("bob", "incident.update"),
                                    ("hikeshi", "respond.block")], 1):
        ln = audit_line(i, prev, who, act, "incident/7", {"n": i})
        lines.append(ln)
        prev = hashlib.sha256(ln).hexdigest()
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    r = subprocess.run([BIN, "audit", "verify", path], capture_output=True, text=True)
    check(r.returncode == 0 and "3 entries, chain intact" in r.stdout,
          "audit verify: an independently written chain is intact (%s)" % r.stdout.strip())
    tampered = lines[1].replace(b'"bob"', b'"eve"')
    with open(path, "wb") as f:
        f.write(b"\n".join([lines[0], tampered, lines[2]]) + b"\n")
    r = subprocess.run([BIN, "audit", "verify", "--json", path], capture_output=True, text=True)
    out = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check(r.returncode == 1 and out.get("intact") is False and out.get("line") == 2,
          "audit verify: a changed actor breaks the chain at line 2 (%s)" % r.stdout.strip())


def main():
    r = run("--help")
    check(r.returncode == 0 and "run" in r.stdout and "scan" in r.stdout, "hikeshi --help")
    r = run("--version")
    check(r.returncode == 0 and r.stdout.startswith("hikeshi "), "hikeshi --version")
    for cmd in ("run", "scan", "audit"):
        r = run(cmd, "--help")
        check(r.returncode == 0 and r.stdout.startswith("usage: hikeshi " + cmd),
              "hikeshi %s --help" % cmd)
        r = run(cmd, "--no-such-flag")
        check(r.returncode == 2 and "--help" in r.stderr, "%s: unknown flag exits 2" % cmd)
    r = run()
    check(r.returncode == 2, "no command exits 2")
    r = run("frobnicate")
    check(r.returncode == 2 and "unknown command" in r.stderr, "unknown command exits 2")
    r = run("scan")
    check(r.returncode == 2, "scan with no path exits 2")
    r = run("scan", "-f", "xml", "-")
    check(r.returncode == 2, "scan with a bad format exits 2")

    tmp = tempfile.mkdtemp(prefix="hikeshi-cli-")
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("data_dir: ./var\ninputs:\n  - type: syslog-udp\n    listen: 127.0.0.1:5514\n"
                "    decoder: klingon\n")
    for cmd in (["run", "-c", bad], ["run", "-n", "-c", bad], ["scan", "-c", bad, "-"]):
        r = run(*cmd)
        check(r.returncode == 2 and "%s:5:14: unknown decoder" % bad in r.stderr,
              "%s: bad config -> FILE:LINE:COL, exit 2 (%s)" % (" ".join(cmd[:2]), r.stderr.strip()))
    r = run("run", "-c", os.path.join(tmp, "absent.yaml"))
    check(r.returncode == 2 and "absent.yaml" in r.stderr, "missing config file exits 2")

    # rules check: the SigmaHQ tree loads whole; a bad rule is located.
    shared = os.environ.get("HIKESHI_SHARED", "../shared")
    r = run("rules", "check", os.path.join(shared, "sigma", "rules"))
    check(r.returncode == 0, "rules check loads the SigmaHQ rule tree (%s)" % (
        (r.stdout + r.stderr).strip().splitlines()[-1:]))
    badrule = os.path.join(tmp, "bad.yml")
    with open(badrule, "w") as f:
        f.write("title: t\nid: 5f1e6a1e-0000-4000-8000-000000000001\nlogsource:\n"
                "  product: linux\ndetection:\n  sel:\n    Image|nosuchmod: x\n"
                "  condition: sel\n")
    r = run("rules", "check", badrule)
    check(r.returncode == 1 and ("%s:7:" % badrule) in (r.stdout + r.stderr) and
          "nosuchmod" in (r.stdout + r.stderr),
          "rules check reports a bad rule as FILE:LINE:COL with the reason (%s)" % (
              (r.stdout + r.stderr).strip()))
    r = run("rules", "--help")
    check(r.returncode == 0 and "rules check" in r.stdout, "hikeshi rules --help")

    # The defaults find the bundled rules at the top of a source tree (as
    # run does, -n loads them).
    r = run("run", "-n", cwd=SOURCE)
    check(r.returncode == 0, "run -n accepts the built-in defaults (%s)" % r.stderr.strip())
    r = run("run", "-n", "-v", cwd=SOURCE)
    check(r.returncode == 0 and "127.0.0.1:5514" in r.stdout, "run -n -v prints the defaults")
    normal = os.path.join(tmp, "normal.yaml")
    with open(normal, "w") as f:
        f.write(r.stdout)
    r2 = run("run", "-n", "-v", "-c", normal, cwd=SOURCE)
    check(r2.returncode == 0 and r2.stdout == r.stdout,
          "the printed normal form parses back to the same configuration")
    check_audit_verify(tmp)
    finish()


if __name__ == "__main__":
    main()
