"""End to end for the read side of the HTTP API: a user made with
`hikeshi user add` reads the incidents triage opened from the generator's
day, through a Bearer token; no token or a wrong one is 401, bad
parameters 400, an unknown incident 404, another method 405."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, GEN_DAY_CONFIG, Daemon, check, finish, wait_for, user_add  # noqa: E402

GEN = os.environ.get("HIKESHI_GEN", "build/bench/hikeshi-gen")



def call(d, path, token=None, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), method=method)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body.strip() else None


def main():
    d = Daemon(GEN_DAY_CONFIG)
    subprocess.run([GEN, "--records", "20000", "--seed", "1", "-o",
                    os.path.join(d.dir, "day.log")], check=True)
    admin = user_add(d, "alice", "admin")
    viewer = user_add(d, "victor", "viewer")
    r = subprocess.run([BIN, "user", "add", "-c", d.conf, "--role", "admin", "alice"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "exists" in r.stderr, "a second user of the same name is refused")
    d.start()
    # The API opens its store connection on first use, here while the
    # pipeline is writing: it must not disturb the pipeline's (store.c
    # once dropped its locks, and readers elsewhere then deleted the -wal
    # file still in use).
    call(d, "/api/v1/incidents", admin)

    def processed():
        _, _, text = d.get("/metrics")
        return d.metric(text, "hikeshi_pipeline_records_total", 'input="gen"') or 0
    check(wait_for(lambda: processed() >= 20000, timeout=120), "the daemon read the day")
    check(wait_for(lambda: call(d, "/api/v1/incidents", admin)[1]["count"] > 0),
          "incidents appear in the API")
    con = d.db()
    stored = con.execute("SELECT id, type FROM incidents ORDER BY id DESC").fetchall()
    con.close()

    st, body = call(d, "/api/v1/incidents")
    check(st == 401 and "token" in body["error"], "no token: 401 (%s)" % body)
    st, body = call(d, "/api/v1/incidents", "hks_" + "A" * 43)
    check(st == 401 and body["error"] == "invalid, expired or revoked token", "an unknown token: 401")
    st, body = call(d, "/api/v1/incidents", "not a token")
    check(st == 401, "a malformed token: 401")

    st, body = call(d, "/api/v1/incidents?sort=newest", viewer)
    check(st == 200 and body["count"] == len(stored) and
          [i["id"] for i in body["incidents"]] == [row["id"] for row in stored],
          "a viewer lists every stored incident, newest first (%d)" % len(stored))
    check(all({"id", "title", "type", "level", "phase", "version", "deadline", "triage"} <=
              set(i) for i in body["incidents"]), "each incident carries its fields")
    check(all({"entity", "type", "level", "first", "last", "victims"} <= set(i["triage"])
              for i in body["incidents"]), "and triage's proposal behind it")
    t = stored[0]["type"]
    st, body = call(d, "/api/v1/incidents?limit=500&type=" + urllib.request.quote(t), admin)
    check(st == 200 and body["count"] == sum(1 for row in stored if row["type"] == t) and
          all(i["type"] == t for i in body["incidents"]), "filter by type")
    st, body = call(d, "/api/v1/incidents?limit=1&offset=1&sort=newest", admin)
    check(st == 200 and body["count"] == 1 and body["incidents"][0]["id"] == stored[1]["id"],
          "limit and offset page through the list")
    for q in ("limit=0", "limit=501", "limit=x", "offset=-1"):
        st, body = call(d, "/api/v1/incidents?" + q, admin)
        check(st == 400 and "limit" in body["error"], "bad %s: 400" % q)
    st, body = call(d, "/api/v1/incidents/%d" % stored[-1]["id"], viewer)
    check(st == 200 and body["id"] == stored[-1]["id"] and body["phase"] == "new",
          "one incident by id")
    check(st == 200 and (body.get("triage") or {}).get("why", "").startswith("opened because: "),
          "it says why triage opened it (%s)" % (body.get("triage") or {}).get("why"))
    st, body = call(d, "/api/v1/incidents/999999", admin)
    check(st == 404 and body["error"] == "no such incident", "an unknown id: 404")
    st, body = call(d, "/api/v1/incidents/12ab", admin)
    check(st == 404 and body["error"] == "not found", "an id that is not a number matches no route")
    st, body = call(d, "/api/v1/incidents", admin, method="DELETE")
    check(st == 405, "another method: 405")
    fds = os.listdir("/proc/%d/fd" % d.proc.pid)
    gone = [t for t in (os.readlink("/proc/%d/fd/%s" % (d.proc.pid, fd)) for fd in fds)
            if "hikeshi.db" in t and t.endswith("(deleted)")]
    check(not gone, "the daemon's database files are all still on disk (%s)" % gone)
    check(d.stop() == 0, "SIGTERM exits 0")
    finish()


if __name__ == "__main__":
    main()
