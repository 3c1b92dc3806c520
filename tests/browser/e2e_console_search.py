"""End to end: the console's search page (#/search, issue 17).

The real daemon on 127.0.0.1 archives what a syslog-tcp input receives:
30 sshd failures from 203.0.113.7, 40 other lines, and one line carrying
HTML.  The expected matches are what `hikeshi hunt` finds for the same
query over the same archive.  Then `node console_search.test.mjs` logs in
as a viewer, opens Search from the header, runs the query and checks the
summary, the rows and the histogram against that count, opens a row and
finds its raw record byte for byte, finds the HTML line shown as text
(no element made from it), sees no control to add evidence, and a bad
query named as an error; then as an analyst it adds the search to an
incident as evidence.  The item is an archive excerpt linked to the
incident, holding exactly the matching records, with an add entry in its
custody.

Needs /usr/bin/chromium (HIKESHI_CHROMIUM) and tests/browser/node_modules
(`npm ci` in tests/browser); without them the test FAILS saying which is
missing."""

import json
import os
import pwd
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BIN, Daemon, check, finish, wait_for  # noqa: E402
from e2e_console_evidence import call  # noqa: E402
from e2e_console import CHROMIUM, SHOTS, prerequisites  # noqa: E402

CONFIG = """
data_dir: {data}
timezone: UTC
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
archive:
  key: {dir}/keys/archive.key
  verify_key: {dir}/keys/archive.key.pub
  seal_interval: 1
evidence:
  key: {dir}/keys/evidence.key
"""

USERS = {"viewer": ("sarah", "sarah's long passphrase"),
         "analyst": ("bob", "bob's long passphrase")}
QUERY = '"203.0.113.7"'
HOSTILE = '<img src=x onerror="document.title=1">'


def lines():
    out = []
    for i in range(70):
        if i % 7 < 3 and len([x for x in out if "203.0.113.7" in x]) < 30:
            out.append("<38>Oct 11 22:14:%02d web1 sshd[4%03d]: Failed password for root from "
                       "203.0.113.7 port %d ssh2" % (i % 60, i, 40000 + i))
        else:
            out.append("<14>Oct 11 22:14:%02d web1 app[77]: routine line %d" % (i % 60, i))
    while len([x for x in out if "203.0.113.7" in x]) < 30:
        out.append("<38>Oct 11 22:15:00 web1 sshd[999]: Failed password for admin from "
                   "203.0.113.7 port 41999 ssh2")
    out.append("<14>Oct 11 22:16:00 web1 app[77]: 203.0.113.7 asked for %s" % HOSTILE)
    return out


def main():
    if not prerequisites():
        finish()
    d = Daemon(CONFIG)
    keys = os.path.join(d.dir, "keys")
    os.mkdir(keys, 0o700)
    for what, key in (("archive", "archive.key"), ("evidence", "evidence.key")):
        r = subprocess.run([BIN, what, "keygen", "-c", d.conf, "--key", os.path.join(keys, key)],
                           capture_output=True, text=True)
        check(r.returncode == 0, "%s keygen (%s)" % (what, r.stderr.strip()))
    if os.geteuid() == 0:
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
        for p in [keys] + [os.path.join(keys, f) for f in os.listdir(keys)]:
            os.chown(p, who.pw_uid, who.pw_gid)
    tok = {}
    for role, (name, pw) in USERS.items():
        r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", role,
                            "--password-stdin", name], input=pw + "\n",
                           capture_output=True, text=True)
        t = [x.split(": ", 1)[1] for x in r.stdout.splitlines() if x.startswith("token: ")]
        check(r.returncode == 0 and t, "user add %s (%s)" % (name, role))
        tok[role] = t[0] if t else ""
    d.start()
    try:
        st, inc = call(d, "POST", "/api/v1/incidents", tok["analyst"], {"title": "brute force"})
        check(st == 201, "an incident to add to (%s)" % st)
        sent = lines()
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall("".join(x + "\n" for x in sent).encode())
        s.close()
        check(wait_for(lambda: json.loads(d.get("/api/v1/health")[2])["archive"]["cursor"]
                       == len(sent), timeout=30), "every line archived and processed")

        def sealed():
            r = subprocess.run([BIN, "archive", "verify", "-c", d.conf, "--json"],
                               capture_output=True, text=True)
            return json.loads(r.stdout or "{}").get("sealed_records") == len(sent)
        check(wait_for(sealed, timeout=30, step=0.5), "every line sealed (seal_interval: 1)")
        r = subprocess.run([BIN, "hunt", "-c", d.conf, "-f", "jsonl", QUERY],
                           capture_output=True, text=True)
        hits = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        want = [x for x in sent if "203.0.113.7" in x]
        check(r.returncode == 0 and len(hits) == len(want) == 31,
              "hikeshi hunt finds the %d lines naming the address (%d)" % (len(want), len(hits)))
        env = dict(os.environ,
                   HIKESHI_URL="http://127.0.0.1:%d" % d.http,
                   HIKESHI_USERS=json.dumps({role: {"name": n, "password": p}
                                             for role, (n, p) in USERS.items()}),
                   HIKESHI_INCIDENT=str(inc["id"]),
                   HIKESHI_QUERY=QUERY,
                   HIKESHI_EXPECT=json.dumps({"count": len(hits), "first": want[0],
                                              "hostile": HOSTILE}),
                   HIKESHI_CHROMIUM=CHROMIUM,
                   HIKESHI_SCREENSHOTS=SHOTS)
        t0 = time.time()
        r = subprocess.run(["node", os.path.join(HERE, "console_search.test.mjs")], env=env,
                           cwd=HERE, timeout=120)
        print("browser part: %.1f s" % (time.time() - t0))
        check(r.returncode == 0, "console_search.test.mjs: every browser check passed (exit %d)"
              % r.returncode)
        st, items = call(d, "GET", "/api/v1/evidence", tok["analyst"])
        items = items.get("evidence", items.get("items", [])) if isinstance(items, dict) else []
        ex = [i for i in items if i.get("kind") == "archive-excerpt"]
        check(st == 200 and len(ex) == 1 and inc["id"] in ex[0].get("incidents", []),
              "one archive-excerpt item, linked to the incident (%s)" % items)
        if ex:
            st, cust = call(d, "GET", "/api/v1/evidence/%s/custody" % ex[0]["id"].replace("EV-", ""), tok["analyst"])
            check(st == 200 and cust["custody"][0]["action"] == "add",
                  "its custody starts with add (%s)" % str(cust)[:200])
            path = ex[0].get("path")
            with open(path) as f:
                doc = json.load(f)
            raws = sorted(r_["raw"] for r_ in doc.get("records", []))
            check(raws == sorted(want), "the excerpt holds exactly the %d matching records (%d)"
                  % (len(want), len(raws)))
    finally:
        check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
