"""End to end for `hikeshi incident`: the real binary, as an HTTP client of
the real daemon following the generator's day.  What the command prints is
checked against what the API itself answers: the list as a table and as
JSON, one incident shown, a phase change (the version goes up), an illegal
move refused with the server's sentence, a viewer refused, a note, the
first report; then no token (usage error with the hint) and the daemon
gone ("not reachable")."""

import json
import os
import re
import stat
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, GEN_DAY_CONFIG, Daemon, check, finish, wait_for, user_add  # noqa: E402

GEN = os.environ.get("HIKESHI_GEN", "build/bench/hikeshi-gen")


def call(d, path, token, method="GET", body=None):
    """The API directly, as the reference the CLI is compared with."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw.strip() else None


def cli(d, args, token_file=None, token_env=None, stdin=None):
    """Runs `hikeshi incident -c CONF [--token-file F] ARGS` with
    HIKESHI_TOKEN set only when token_env is given."""
    env = dict(os.environ)
    env.pop("HIKESHI_TOKEN", None)
    if token_env is not None:
        env["HIKESHI_TOKEN"] = token_env
    cmd = [BIN, "incident", "-c", d.conf]
    if token_file:
        cmd += ["--token-file", token_file]
    return subprocess.run(cmd + args, capture_output=True, text=True, env=env, input=stdin,
                          timeout=60)


def loads(text):
    """The CLI's JSON output, or {} when it is not JSON (checked then)."""
    try:
        v = json.loads(text)
    except ValueError:
        return {}
    return v if isinstance(v, dict) else {}


def write_token(d, name, token):
    path = os.path.join(d.dir, name + ".token")
    with open(path, "w") as f:
        f.write(token + "\n")
    return path


def table_rows(text):
    """(id, level, category, phase) of each row of the list table."""
    lines = text.splitlines()
    if not lines or lines[0].split()[:4] != ["ID", "LEVEL", "CAT", "PHASE"]:
        return None
    return [tuple(l.split()[:4]) for l in lines[1:]]


def unmarkdown(text):
    """Undoes the report's Markdown escaping (backslashes, & < > as
    entities) so a field's plain text can be looked for."""
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def main():
    d = Daemon(GEN_DAY_CONFIG)
    subprocess.run([GEN, "--records", "20000", "--seed", "1", "-o",
                    os.path.join(d.dir, "day.log")], check=True)
    analyst = user_add(d, "alice", "analyst")
    viewer = user_add(d, "victor", "viewer")
    atok = write_token(d, "alice", analyst)
    vtok = write_token(d, "victor", viewer)

    r = cli(d, ["list"])
    check(r.returncode == 2 and "hikeshi user add" in r.stderr and "HIKESHI_TOKEN" in r.stderr,
          "no token: exit 2 with the hint (%d: %s)" % (r.returncode, r.stderr.strip()))

    d.start()

    def processed():
        _, _, text = d.get("/metrics")
        return d.metric(text, "hikeshi_pipeline_records_total", 'input="gen"') or 0
    check(wait_for(lambda: processed() >= 20000, timeout=120), "the daemon read the day")
    check(wait_for(lambda: (call(d, "/api/v1/incidents", analyst)[1] or {}).get("count", 0) >= 2),
          "at least two incidents in the API")

    # list: the table and --json say what the API says.
    st, api = call(d, "/api/v1/incidents?limit=500", analyst)
    r = cli(d, ["list", "--limit", "500", "--json"], token_file=atok)
    js = loads(r.stdout) if r.returncode == 0 else {}
    check(r.returncode == 0 and st == 200 and
          [i["id"] for i in js.get("incidents", [])] == [i["id"] for i in api["incidents"]],
          "list --json: the API's incidents, in its order (%d)" % len(api.get("incidents", [])))
    r = cli(d, ["list", "--limit", "500"], token_file=atok)
    rows = table_rows(r.stdout) if r.returncode == 0 else None
    want = [(str(i["id"]), i["level"], i["category"] or "-", i["phase"])
            for i in js.get("incidents", [])]
    check(rows is not None and rows == want and len(rows) == len(api["incidents"]),
          "list: the table's id, level, category, phase match --json (%s)" %
          (r.stderr.strip() or "%d rows" % len(rows or [])))
    check(all(i["title"] in r.stdout for i in js.get("incidents", [])
              if i["title"].isprintable()) and bool(js),
          "list: every title is in the table")
    r = cli(d, ["list", "--phase", "new", "--limit", "1", "--json"], token_file=atok)
    js1 = loads(r.stdout) if r.returncode == 0 else {}
    check(r.returncode == 0 and len(js1.get("incidents", [])) == 1 and
          js1["incidents"][0]["phase"] == "new" and js1["limit"] == 1,
          "list --phase new --limit 1 passes the filters")

    st, od = call(d, "/api/v1/incidents?overdue=1&limit=500", analyst)
    r = cli(d, ["list", "--overdue", "--limit", "500", "--json"], token_file=atok)
    oj = loads(r.stdout)
    check(st == 200 and r.returncode == 0 and "incidents" in oj and
          [i["id"] for i in oj["incidents"]] == [i["id"] for i in od["incidents"]],
          "list --overdue: the API's overdue incidents (%d)" % len(od.get("incidents", [])))

    news = [i for i in api["incidents"] if i["phase"] == "new"]
    check(len(news) >= 2, "two incidents in phase new to work on")
    if len(news) < 2:
        d.stop()
        finish()
    inc, other = news[0], news[1]
    iid = inc["id"]

    # show
    r = cli(d, ["show", str(iid)], token_file=vtok)
    check(r.returncode == 0 and r.stdout.startswith("incident %d: " % iid) and
          "deadline:" in r.stdout and "tasks (" in r.stdout and "timeline (" in r.stdout,
          "show (viewer): the incident, its deadline, tasks and timeline")
    st, one = call(d, "/api/v1/incidents/%d" % iid, analyst)
    r = cli(d, ["show", str(iid), "--json"], token_file=atok)
    sj = loads(r.stdout) if r.returncode == 0 else {}
    check(r.returncode == 0 and sj.get("incident") == one and
          isinstance(sj.get("tasks"), list) and isinstance(sj.get("timeline"), list),
          "show --json: the incident as the API has it, with tasks and timeline")
    r = cli(d, ["show", "999999"], token_file=atok)
    check(r.returncode == 1 and "HTTP 404: no such incident" in r.stderr,
          "show of an unknown id: exit 1, HTTP 404 (%s)" % r.stderr.strip())

    # update: new -> first_aid, the version goes up.
    v0 = one["version"]
    r = cli(d, ["update", str(iid), "--phase", "first_aid", "--reason", "e2e: containing"],
            token_file=atok)
    st, after = call(d, "/api/v1/incidents/%d" % iid, analyst)
    check(r.returncode == 0 and after["phase"] == "first_aid" and after["version"] > v0 and
          ("phase first_aid" in r.stdout and "version %d" % after["version"] in r.stdout),
          "update --phase first_aid: done, version %s -> %s (%s)" %
          (v0, after.get("version"), (r.stdout + r.stderr).strip()))
    st, tl = call(d, "/api/v1/incidents/%d/timeline" % iid, analyst)
    check(st == 200 and any(e.get("to") == "first_aid" for e in tl["timeline"]),
          "the phase change is in the timeline")
    r = cli(d, ["show", str(iid)], token_file=atok)
    check(r.returncode == 0 and "-> first_aid" in r.stdout, "show prints the change")

    # An illegal move: new -> closed without a reason, refused with the
    # server's own sentence, nothing changed.
    st, o1 = call(d, "/api/v1/incidents/%d" % other["id"], analyst)
    st, ref = call(d, "/api/v1/incidents/%d" % other["id"], analyst, "PATCH",
                   {"version": o1["version"], "phase": "closed"})
    check(st == 422 and ref and ref.get("error"), "the API refuses new -> closed without reason")
    r = cli(d, ["update", str(other["id"]), "--phase", "closed"], token_file=atok)
    st, o2 = call(d, "/api/v1/incidents/%d" % other["id"], analyst)
    check(r.returncode == 1 and ref and "HTTP 422: " + ref["error"] in r.stderr and
          o2["phase"] == "new" and o2["version"] == o1["version"],
          "update new -> closed: exit 1 with the server's sentence (%s)" % r.stderr.strip())

    # A viewer may not change anything.
    st, ref = call(d, "/api/v1/incidents/%d" % other["id"], viewer, "PATCH",
                   {"version": o1["version"], "level": "Red"})
    r = cli(d, ["update", str(other["id"]), "--level", "Red"], token_file=vtok)
    check(st == 403 and r.returncode == 1 and "HTTP 403: " + ref["error"] in r.stderr,
          "a viewer's update: exit 1 with the 403 message (%s)" % r.stderr.strip())

    # note, from the argument and from standard input.
    r = cli(d, ["note", str(iid), "Isolated web1 at the switch"], token_file=atok)
    st, notes = call(d, "/api/v1/incidents/%d/notes" % iid, viewer)
    check(r.returncode == 0 and r.stdout.startswith("note ") and st == 200 and
          any(n["text"] == "Isolated web1 at the switch" and n["who"] == "alice"
              for n in notes["notes"]),
          "note: the API has it, by alice (%s)" % (r.stdout + r.stderr).strip())
    r = cli(d, ["note", str(iid), "-"], token_env=analyst,
            stdin="Disk image taken\nhash in the case file\n")
    st, notes = call(d, "/api/v1/incidents/%d/notes" % iid, viewer)
    check(r.returncode == 0 and
          any(n["text"] == "Disk image taken\nhash in the case file" for n in notes["notes"]),
          "note - (HIKESHI_TOKEN): standard input, its last newline dropped")

    # report first: Markdown naming the incident.
    r = cli(d, ["report", str(iid), "first"], token_file=atok)
    check(r.returncode == 0 and r.stdout.strip() and after["title"] in unmarkdown(r.stdout),
          "report first: Markdown with the title %r (%s)" % (after["title"], r.stderr.strip()))
    out = os.path.join(d.dir, "first.md")
    r = cli(d, ["report", str(iid), "first", "-o", out], token_file=atok)
    ok = r.returncode == 0 and os.path.exists(out)
    text = open(out).read() if ok else ""
    check(ok and after["title"] in unmarkdown(text) and
          stat.S_IMODE(os.stat(out).st_mode) == 0o600,
          "report first -o FILE: written, mode 0600")
    st, reps = call(d, "/api/v1/incidents/%d/reports" % iid, viewer)
    # docs/api.md does not name the list's key: take the answer's one list.
    lists = [v for v in (reps or {}).values() if isinstance(v, list)]
    check(st == 200 and len(lists) == 1 and
          len([x for x in lists[0] if x.get("kind") == "first"]) == 2,
          "the API lists both generated versions of the first report")
    r = cli(d, ["report", str(iid), "first"], token_file=vtok)
    check(r.returncode == 1 and "HTTP 403" in r.stderr, "a viewer cannot generate a report")

    check(d.stop() == 0, "SIGTERM exits 0")
    r = cli(d, ["list"], token_file=atok)
    check(r.returncode == 1 and "not reachable" in r.stderr and
          "127.0.0.1:%d" % d.http in r.stderr,
          "daemon down: exit 1, not reachable at the configured address (%s)" %
          r.stderr.strip())
    finish()


if __name__ == "__main__":
    main()
