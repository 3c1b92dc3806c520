"""End to end: a silent source on the console's dashboard (issue 21).

The real daemon on 127.0.0.1 with two JSON-lines inputs: `beacon`
(expect_every: 10s) and `quiet` (expect_every: off).  A viewer with a
password; then `node console_silence.test.mjs` logs in, sends a record to
`beacon` itself (a TCP connection from node), sees the source sending on
the dashboard, lets it fall silent and sees it marked (SILENT, red, an
alarm line naming it, listed first; the health API agrees), then sends
again and sees it back to normal.  Quick: a few records, one login.

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
  - name: beacon
    type: json-tcp
    listen: 127.0.0.1:%(beacon)d
    expect_every: 10s
  - name: quiet
    type: json-tcp
    listen: 127.0.0.1:%(quiet)d
    expect_every: off
"""

NAME, PASSWORD = "victor", "victor's long passphrase"


def main():
    if not prerequisites():
        finish()
    port = free_port()
    d = Daemon(CONFIG % {"beacon": port, "quiet": free_port()})
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "viewer",
                        "--password-stdin", NAME], input=PASSWORD + "\n",
                       capture_output=True, text=True)
    check(r.returncode == 0, "user add %s (%s)" % (NAME, r.stderr.strip()))
    d.start()
    try:
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USER=json.dumps({"name": NAME, "password": PASSWORD}),
                   HIKESHI_BEACON_PORT=str(port),
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_silence.test.mjs")], env=env,
                           cwd=HERE, timeout=120)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_silence.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
        check("source silent: input beacon: 127.0.0.1 sent nothing" in d.read_log(),
              "the daemon logged the silence the dashboard showed")
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
