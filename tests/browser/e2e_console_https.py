"""End to end: the web console over HTTPS in headless Chromium (issue 15).

The real daemon on 127.0.0.1 with `http.tls: true` and no certificate of
its own: it makes a self-signed one in data_dir.  An analyst with a
password; then `node console_https.test.mjs` loads the console from
https://localhost:PORT, logs in through the form and checks the
certificate is the daemon's (by its common name), HSTS, and that the
browser keeps the session cookie as Secure.  Quick: no records, one login.

Needs /usr/bin/chromium (HIKESHI_CHROMIUM) and tests/browser/node_modules
(`npm ci` in tests/browser); without them the test FAILS saying which is
missing."""

import json
import os
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, Daemon, check, finish  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, prerequisites  # noqa: E402

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
  tls: true
sigma:
  rules: [{src}/rules]
  mappings: {src}/rules/config
triage:
  config: {src}/rules/config/triage.yaml
inputs: []
"""

NAME, PASSWORD = "bob", "bob's long passphrase"


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    # The user the daemon drops to must get through to data_dir.
    os.chmod(d.dir, 0o711)
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "analyst",
                        "--password-stdin", NAME], input=PASSWORD + "\n",
                       capture_output=True, text=True)
    check(r.returncode == 0, "user add %s (%s)" % (NAME, r.stderr.strip()))
    d.start()
    try:
        crt = os.path.join(d.data, "http.crt")
        subject = dict(x[0] for x in ssl._ssl._test_decode_cert(crt).get("subject", ()))
        cn = subject.get("commonName", "")
        check(cn != "", "the daemon made its certificate (CN %s)" % cn)
        env = dict(os.environ,
                   HIKESHI_URL="https://localhost:%d" % d.http,
                   HIKESHI_USER=json.dumps({"name": NAME, "password": PASSWORD}),
                   HIKESHI_CERT_CN=cn,
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_https.test.mjs")], env=env,
                           cwd=HERE, timeout=120)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_https.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
