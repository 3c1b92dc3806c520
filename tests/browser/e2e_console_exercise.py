"""End to end: the console's exercise banner (issue 22, docs/exercise.md).

The real daemon on 127.0.0.1 with a syslog-tcp input `drill` marked
`exercise: true`, a viewer with a password, and a scenario written here
that plays for minutes at 1x and delivers an inject 1 s in.  Then `node
console_exercise.test.mjs` logs in, sees no banner, starts `hikeshi
exercise run` itself, sees the banner on the dashboard and on another page
with the scenario's title and the inject as text, runs `hikeshi exercise
stop` and sees the banner go.

Needs /usr/bin/chromium (HIKESHI_CHROMIUM) and tests/browser/node_modules
(`npm ci` in tests/browser); without them the test FAILS saying which is
missing."""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, Daemon, check, finish, free_port  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, prerequisites  # noqa: E402

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: drill
    type: syslog-tcp
    listen: 127.0.0.1:%d
    peers: [127.0.0.1]
    exercise: true
"""

# The title carries markup: the banner must show it as text, not build it.
SCENARIO = """scenario: banner
title: "Banner <b>drill</b> & a mail server"
vars:
  victim_host: mx1
  attacker_ip: 203.0.113.77
stages:
  - name: phishing
    at: 0s
    records:
      - at: 0s
        format: syslog
        repeat: 60
        every: 5s
        text: "<38>${ts} ${victim_host} sshd[${n}411]: Failed password for root from ${attacker_ip} port 5${n}022 ssh2"
    messages:
      - at: 1s
        from: a journalist
        channel: mail
        text: "Is it true that ${victim_host} leaks your customers' mail? <img src=x>"
expect:
  detections:
    - rule: ssh_bruteforce
      within: 5m
"""

NAME, PASSWORD = "vera", "vera's long passphrase"


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG % free_port())
    scen = os.path.join(d.dir, "banner.yaml")
    with open(scen, "w") as f:
        f.write(SCENARIO)
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "viewer",
                        "--password-stdin", NAME], input=PASSWORD + "\n",
                       capture_output=True, text=True)
    check(r.returncode == 0, "user add %s (%s)" % (NAME, r.stderr.strip()))
    d.start()
    try:
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USER=json.dumps({"name": NAME, "password": PASSWORD}),
                   HIKESHI_BIN=BIN, HIKESHI_CONF=d.conf, HIKESHI_SCENARIO=scen,
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_exercise.test.mjs")], env=env,
                           cwd=HERE, timeout=240)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_exercise.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
        r = subprocess.run([BIN, "exercise", "-c", d.conf, "status", "--json"],
                           capture_output=True, text=True)
        st = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else {}
        check(st.get("state") == "stopped", "the run the browser saw ended stopped (%s)" % st)
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
