"""End to end: the README's tour, run as written (issue 21).

The commands are read from README.md itself, from the fenced ```sh blocks of
its "A short tour" section, so the tour and this test cannot drift apart.
Each command (a line, or lines joined until the shell finds the command
complete: a loop, a continued line) runs verbatim in bash, in order, with
one environment carried from one to the next (`export` included), against
a fresh daemon started as `./dev.sh run` starts it: `./build/hikeshi run`
on its built-in defaults, from the top of a tree.

Nothing in a command is rewritten.  What the README assumes is arranged
around it instead:
- a private network namespace with only loopback, so the defaults'
  127.0.0.1:5514 and 127.0.0.1:8080 are free and the daemon alone on them;
- a scratch "top of the tree" holding `build` (a link to this build
  directory), copies of `rules` and `playbooks` (the daemon's defaults), and beside
  it `../shared` (the public samples), so the paths the tour names are
  there; the daemon's `var/` is made fresh there;
- a password on standard input for the command that reads one.

A command that says what it prints (`# prints: TEXT`, on its line or on
the comment line after it; `...` stands for what varies) must print TEXT's
pieces in that order; every command must exit 0.  A read-only command is
given a few seconds to show what the daemon is still processing (a
reader is not that fast either).  The few commands not run are named in
NOT_RUN with the reason, and must still be in the README.

Afterwards: the report the tour wrote renders (cmark-gfm, GitHub's
CommonMark) to the text it holds, a report of hostile text renders to no
link, image, HTML or heading, and the daemon's /metrics passes promtool."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, DAEMON_SOURCE, SHARED, SOURCE, check, finish,  # noqa: E402
                     promtool_check, sh, skip)

README = os.path.join(SOURCE, "README.md")
SECTION = "## A short tour"
NS = "hktour%d" % os.getpid()
PASSWORD = "the tour's long passphrase\n"

# Commands of the section this test does not run, each with why.  Each must
# still be in the section (so this list is looked at when the tour changes).
NOT_RUN = {
    "./build/hikeshi scan -f jsonl --summary-json summary.json /path/to/evidence/":
        "a placeholder path: the reader's evidence",
    "./build/hikeshi scan --store /tmp/case1 ../shared/data/windows/EVTX-ATTACK-SAMPLES/":
        "the whole EVTX sample set (e2e_evtx and e2e_scan scan it; minutes under ASan)",
    "ninja -C build bench/hikeshi-gen":
        "builds in the build directory under test (meson test has built it)",
    "build/bench/hikeshi-gen --records 200000 -o /tmp/day.log --truth /tmp/truth.json":
        "the bench day (e2e_eval runs the yardstick; minutes under ASan)",
    "./build/hikeshi scan -f jsonl --incidents /tmp/inc.jsonl /tmp/day.log > /dev/null":
        "the bench day (e2e_eval)",
    "python3 bench/score-incidents.py /tmp/truth.json /tmp/inc.jsonl":
        "the bench day (e2e_eval)",
}

# Commands that only read: retried for a while until they print what the
# README says (the daemon may still be processing what came before).
READ_ONLY = re.compile(r"^(sqlite3 |head |curl -s (?!-X)|\./build/hikeshi incident list)")

PRINTS = re.compile(r"\s*#\s*prints:\s?(.*)$")


def tour_blocks():
    """The ```sh blocks of the tour section, each a list of lines."""
    with open(README) as f:
        text = f.read()
    start = text.index("\n" + SECTION + "\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    return [b.split("\n") for b in re.findall(r"\n```sh\n(.*?)\n```", section, re.S)]


def complete(script):
    """Whether bash parses `script` as whole commands (no open loop, quote
    or continuation)."""
    if script.rstrip().endswith("\\"):
        return False
    return subprocess.run(["bash", "-n"], input=script, text=True,
                          capture_output=True).returncode == 0


def commands(block):
    """[(command, expected or None)] of one block."""
    out, acc = [], []
    for line in block:
        m = PRINTS.match(line)
        if m and line.lstrip().startswith("#") and not acc:
            # "# prints: ..." on its own line: the previous command's.
            if out and out[-1][1] is None:
                out[-1] = (out[-1][0], m.group(1))
            continue
        if not acc and (not line.strip() or line.lstrip().startswith("#")):
            continue
        acc.append(line)
        script = "\n".join(acc)
        if not complete(script):
            continue
        expect = None
        m = re.search(r"\s#\s*prints:\s?(.*)$", acc[-1])
        if m:
            expect = m.group(1)
            acc[-1] = acc[-1][:m.start()]
        out.append(("\n".join(acc).rstrip(), expect))
        acc = []
    if acc:
        out.append(("\n".join(acc), None))
    return out


def shows(output, expect):
    """Whether output holds expect's pieces (split at "...") in order."""
    pos = 0
    for piece in [p for p in re.split(r"\s*\.\.\.\s*", expect.strip())]:
        if not piece:
            continue
        i = output.find(piece, pos)
        if i < 0:
            return False
        pos = i + len(piece)
    return True


def run_cmd(cmd, top, env):
    """Runs one command verbatim in bash in the namespace; returns the
    completed process.  An `export NAME=...` also carries NAME on."""
    m = re.match(r"export ([A-Za-z_][A-Za-z0-9_]*)=", cmd)
    script = cmd + ('\nprintf "\\n__export=%%s" "$%s"' % m.group(1) if m else "")
    r = subprocess.run(["ip", "netns", "exec", NS, "bash", "-c", script], cwd=top, env=env,
                       input=PASSWORD if "--password-stdin" in cmd else "",
                       capture_output=True, text=True, timeout=180)
    if m:
        val = r.stdout.rsplit("\n__export=", 1)
        r.stdout = val[0]
        env[m.group(1)] = val[1] if len(val) == 2 else ""
    return r


def make_top(base):
    """A scratch "top of the tree" the tour's relative paths resolve in."""
    top = os.path.join(base, "hikeshi")
    os.mkdir(top)
    os.chmod(base, 0o755)
    os.chmod(top, 0o755)
    os.symlink(os.path.dirname(os.path.abspath(BIN)), os.path.join(top, "build"))
    # Copies (the rule loader does not follow a symbolic link at the top),
    # readable by the user the daemon drops to.
    for part in ("rules", "playbooks"):
        shutil.copytree(os.path.join(DAEMON_SOURCE, part), os.path.join(top, part))
        for d, _, files in os.walk(os.path.join(top, part)):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
    os.symlink(os.path.abspath(SHARED), os.path.join(base, "shared"))
    return top


def start_daemon(top):
    log = open(os.path.join(top, "daemon.log"), "wb")
    proc = subprocess.Popen(["ip", "netns", "exec", NS, "./build/hikeshi", "run"], cwd=top,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        text = open(os.path.join(top, "daemon.log"), errors="replace").read()
        if "ready: data in" in text:
            return proc, log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("the daemon did not start:\n" +
                       open(os.path.join(top, "daemon.log"), errors="replace").read())


def in_ns(*args, data=None):
    return subprocess.run(["ip", "netns", "exec", NS] + list(args), input=data,
                          capture_output=True, text=True, timeout=60)


def after_tour(top, env):
    """The report the tour wrote, a hostile report, /metrics."""
    md = open(os.path.join(top, "first-report.md")).read()
    html = subprocess.run(["cmark-gfm", "-e", "table", "-e", "strikethrough", "-e", "autolink",
                           "-e", "tasklist"], input=md, capture_output=True, text=True)
    check(html.returncode == 0 and "<h1>first report: probe or attack without damage: "
          "source.ip=203.0.113.9</h1>" in html.stdout and "<strong>Phase:</strong> first_aid"
          in html.stdout and "\\" not in md,
          "first-report.md reads as plain text and renders to the same text (%s)"
          % html.stdout[:200].replace("\n", " "))

    hostile = ("[click](http://evil.example/) ![x](http://evil.example/x.png) "
               "<script>alert(1)</script> <b>bold</b> &lt;\n# Heading\n> quote\n- item\n"
               "[ref]: http://evil.example/\n***\n`code` *em* _em_ ~~del~~")
    body = '{"kind":"interim1","evidence":%s,"social_threat":"none"}' % (
        __import__("json").dumps(hostile))
    tok = env.get("HIKESHI_TOKEN", "")
    r = in_ns("curl", "-s", "-X", "POST", "-H", "Authorization: Bearer " + tok, "-H",
              "Content-Type: application/json", "--data-binary", "@-",
              "127.0.0.1:8080/api/v1/incidents/1/reports", data=body)
    m = re.search(r'"id":(\d+)', r.stdout)
    check(m is not None, "POST a report of hostile text (%s)" % r.stdout[:200])
    if m:
        r = in_ns("curl", "-s", "-H", "Authorization: Bearer " + tok,
                  "127.0.0.1:8080/api/v1/incidents/1/reports/%s?format=md" % m.group(1))
        html = subprocess.run(["cmark-gfm", "-e", "table", "-e", "strikethrough", "-e",
                               "tasklist"], input=r.stdout, capture_output=True, text=True)
        ev = html.stdout.split("<h2>Evidence</h2>", 1)[-1].split("<h2>", 1)[0]
        bad = [t for t in ("<a ", "<img", "<script", "<b>", "<h1", "<h3", "<blockquote", "<li",
                           "<hr", "<code", "<em", "<del", "<table") if t in ev]
        check(html.returncode == 0 and "evil.example" in ev and not bad and
              "[click](http://evil.example/)" in ev and "# Heading" in ev,
              "the hostile text renders as text, no link, image, HTML, heading, list, quote, "
              "code or emphasis (%s; %s)" % (bad, ev[:300].replace("\n", " ")))

    r = in_ns("curl", "-s", "127.0.0.1:8080/metrics")
    promtool_check(r.stdout, "the tour daemon's /metrics")


def main():
    if os.geteuid() != 0:
        skip("needs root for a network namespace where 127.0.0.1:8080 and :5514 are free")
    blocks = tour_blocks()
    cmds = [c for b in blocks for c in commands(b)]
    check(len(cmds) >= 15, "the tour section has its commands (%d)" % len(cmds))
    texts = [c for c, _ in cmds]
    for c in NOT_RUN:
        check(c in texts, "a command not run is still in the tour: %s" % c)

    base = tempfile.mkdtemp(prefix="hikeshi-tour-")
    try:
        sh("ip", "netns", "add", NS)
        sh("ip", "-n", NS, "link", "set", "lo", "up")
    except (RuntimeError, FileNotFoundError) as e:
        skip("cannot make a network namespace: %s" % e)
    proc = log = None
    try:
        top = make_top(base)
        proc, log = start_daemon(top)
        env = dict(os.environ)
        env.pop("HIKESHI_TOKEN", None)
        for cmd, expect in cmds:
            if cmd in NOT_RUN:
                print("skip - %s (%s)" % (cmd, NOT_RUN[cmd]))
                continue
            deadline = time.time() + (15 if READ_ONLY.match(cmd) and expect else 0)
            while True:
                r = run_cmd(cmd, top, env)
                out = r.stdout + r.stderr
                good = r.returncode == 0 and (expect is None or shows(out, expect))
                if good or time.time() >= deadline:
                    break
                time.sleep(0.3)
            check(good, "%s -> exit %d%s%s" % (
                cmd.replace("\n", " "), r.returncode,
                ", prints %s" % expect if expect else "",
                "" if good else "; got: " + out.strip()[-600:]))
        check(env.get("HIKESHI_TOKEN", "").startswith("hks_"),
              "HIKESHI_TOKEN was exported from user add's output")
        after_tour(top, env)
    finally:
        if proc:
            proc.terminate()
            try:
                rc = proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            check(rc == 0, "the daemon stops cleanly on SIGTERM (%d)" % rc)
            if rc != 0:
                print(open(os.path.join(base, "hikeshi", "daemon.log"), errors="replace").read())
        if log:
            log.close()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
