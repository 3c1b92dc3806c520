"""The observables panel of an incident page in headless Chromium (issue 20).

A C2 address is imported as an indicator (hikeshi intel import) before the
daemon starts; two firewall lines from two inside hosts to it open two
incidents, each holding C2 as an observable taken from its alert, so the
two are linked.  console_observables.test.mjs then logs an analyst in and
checks the first incident's panel: C2 from an alert, "also in" the other
incident, the linked incident named with its shared count; the analyst
adds a domain through the form (shown canonical, added by the analyst),
makes it an indicator with TLP GREEN (the row then names the indicator),
and removes the inside host's address.  A viewer sees the panel without
the form or the buttons.  Afterwards `hikeshi intel list` holds the domain
under the feed local with TLP GREEN.  Needs what e2e_console.py needs
(chromium, tests/browser/node_modules)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, Daemon, check, finish, syslog_stamp, wait_for  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, prerequisites, user_add  # noqa: E402

C2 = "185.220.101.47"
INSIDE, INSIDE_2 = "10.0.1.50", "10.0.1.52"
USERS = {"analyst": ("bob", "bob's long passphrase"),
         "viewer": ("victor", "victor's long passphrase")}

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: fw
    type: syslog-udp
    listen: 127.0.0.1:{port}
"""


def ufw_line(src, dst):
    return ("<4>%s fw01 kernel: [2017913.737300] [UFW BLOCK] IN=eth1 OUT=eth0 "
            "MAC=52:54:00:40:06:06:00:1b:21:7f:10:c2:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 "
            "PREC=0x00 TTL=63 ID=26624 DF PROTO=TCP SPT=49986 DPT=443 WINDOW=64240 RES=0x00 "
            "SYN URGP=0" % (syslog_stamp(), src, dst))


def get(d, path, token):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path),
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def holding(d, token, value):
    """The ids of the incidents whose observables hold `value`."""
    out = []
    for inc in get(d, "/api/v1/incidents?limit=100", token)["incidents"]:
        obs = get(d, "/api/v1/incidents/%d/observables" % inc["id"], token)["observables"]
        if any(o["value"] == value for o in obs):
            out.append(inc["id"])
    return sorted(out)


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    feed = os.path.join(d.dir, "c2.csv")
    with open(feed, "w") as f:
        f.write("value,confidence\n%s,90\n" % C2)
    r = subprocess.run([BIN, "intel", "import", "-c", d.conf, "--feed", "peer",
                        "--warninglists", "none", feed], capture_output=True, text=True)
    check(r.returncode == 0, "the C2 address imported: %s" % (r.stdout + r.stderr).strip())
    tok = {role: user_add(d, role, n, p) for role, (n, p) in USERS.items()}
    d.start()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for src in (INSIDE, INSIDE_2):
            s.sendto(ufw_line(src, C2).encode(), ("127.0.0.1", d.port))
        s.close()
        check(wait_for(lambda: len(holding(d, tok["viewer"], C2)) == 2, 15),
              "two incidents hold the C2 address")
        first, second = holding(d, tok["viewer"], C2)
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USERS=json.dumps({role: {"name": n, "password": p}
                                             for role, (n, p) in USERS.items()}),
                   HIKESHI_INCIDENT=str(first), HIKESHI_OTHER=str(second),
                   HIKESHI_C2=C2, HIKESHI_INSIDE=INSIDE,
                   HIKESHI_CHROMIUM=CHROMIUM, HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_observables.test.mjs")], env=env,
                           cwd=HERE, timeout=180)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_observables.test.mjs: every browser check passed "
              "(exit %d)" % r.returncode)
        listed = subprocess.run([BIN, "intel", "list", "--json", "-c", d.conf],
                                capture_output=True, text=True).stdout
        rows = [json.loads(x) for x in listed.splitlines() if x.strip()]
        mine = [x for x in rows if x["value"] == "evil-panel.example"]
        check(len(mine) == 1 and mine[0]["feed"] == "local" and mine[0]["tlp"] == "GREEN",
              "the console's promotion is an indicator of feed local, TLP GREEN: %s" % mine)
        obs = get(d, "/api/v1/incidents/%d/observables" % first, tok["viewer"])["observables"]
        check(not any(o["value"] == INSIDE for o in obs),
              "the address removed in the console is gone from the API's list")
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
