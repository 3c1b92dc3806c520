"""The evidence register over the HTTP API (issue 19), against the running
daemon: an analyst adds a pcap under evidence.intake (hashed by the server:
its SHA-256 and BLAKE2b-512 are Python's) and a URL reference with the
acquirer's digests, both linked to an incident with their acquisition and
purposes; paths outside evidence.intake (directly, by ../ and by a
symbolic link), relative paths, a URL without digests, unknown kinds,
purposes and incidents are refused, and so is a file whose digests are
not the ones given (nothing added); a viewer lists but cannot add.  The
pcap is handed over twice; a hand-over by someone who does not hold it
is refused (409).  verify finds it intact, then names the SHA-256
mismatch once a byte of the file is flipped.  Showing an item is an
access in its custody log; reading the custody log is not.  Every custody
entry is in the daemon's audit log with the API user as actor, and the
CLI verifies the chain the daemon sealed.  While a `hikeshi evidence`
command holds the register, a write answers 503 at once and the list
still answers; without evidence.key the writes answer 503.  The
incident's final report lists each item with its digest, acquisition and
chain of custody; one without evidence says so.

Collection plans: for an incident and the kind of its asset, the daemon
serves the shipped plan of playbooks/collection (compared here with the
YAML read by Python): its steps in their order, volatile data first and
never back up the order volatile, disk, logs, the host put for {host} in
the commands.  An unknown kind is 404 naming it and the plans there are;
a missing kind, a host that could inject into the suggested command and
an unknown incident are refused; a plan out of order in the site's
directory is 500 naming its file and line.

Collection tasks: in a copy of the shipped playbooks whose default
playbook gains a first-aid task `collect: server/memory` (and one naming
a step no plan has), the task cannot be ticked by hand (409 naming the
step and the route); registering through POST
/api/v1/incidents/{id}/tasks/{task}/evidence refuses a path outside
evidence.intake and another kind than the step's (nothing added), then
adds the memory dump (kind, tool and command from the plan, digests
Python's, linked to the incident, "collection" the step), ticks the task
done by the caller with a timeline entry naming EV-n, and seals a custody
entry in the audit log; a second registration is 409 and adds nothing; a
task that needs no evidence is 409; the unknown step is 500 naming it.
The shipped damage-manifest "Preserve evidence" (needs_evidence) is
refused by hand and done through the route with a pcap."""

import fcntl
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, DAEMON_SOURCE, Daemon, check, finish, user_add  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
incident:
  playbooks: {dir}/site-playbooks
evidence:
  key: {dir}/keys/evidence.key
  intake: [{dir}/intake]
"""

NO_KEY_CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
incident:
  playbooks: {dir}/playbooks
evidence:
  intake: [{dir}/intake]
"""

ORDER = {"volatile": 0, "disk": 1, "logs": 2}


def check_plans(d, iid, viewer):
    """The collection plan route against the shipped YAML."""
    shipped = {}
    cdir = os.path.join(DAEMON_SOURCE, "playbooks", "collection")
    for name in sorted(os.listdir(cdir)):
        with open(os.path.join(cdir, name)) as f:
            doc = yaml.safe_load(f)
        shipped[doc["plan"]] = doc
    check(sorted(shipped) == ["cloud", "network-device", "server", "workstation"],
          "four plans are shipped (%s)" % sorted(shipped))
    for kind, doc in sorted(shipped.items()):
        st, plan = call(d, "GET", "/api/v1/incidents/%d/collection-plan?kind=%s&host=web1"
                        % (iid, kind), viewer)
        check(st == 200 and plan["incident"] == iid and plan["plan"] == kind and
              plan["title"] == doc["title"] and plan["host"] == "web1",
              "the %s plan for incident %d (%s)" % (kind, iid, st))
        if st != 200:
            continue
        got = [(s["n"], s["ref"], s["id"], s["order"], s["kind"], s["what"], s["tool"])
               for s in plan["steps"]]
        want = [(i + 1, "%s/%s" % (kind, s["id"]), s["id"], s["order"], s["kind"],
                 s["what"], s.get("tool", "")) for i, s in enumerate(doc["steps"])]
        check(got == want, "its steps are the file's, in the file's order (%s)" % kind)
        orders = [ORDER[s["order"]] for s in plan["steps"]]
        check(orders[0] == 0 and orders == sorted(orders),
              "%s: volatile data first, never back up the order (%s)"
              % (kind, [s["order"] for s in plan["steps"]]))
        for s, w in zip(plan["steps"], doc["steps"]):
            cmd = w.get("command", "")
            check(s["command"] == cmd.replace("{host}", "web1") and "{host}" not in s["command"],
                  "%s: the host is put in the command (%s)" % (s["ref"], s["command"][:60]))
    st, plan = call(d, "GET", "/api/v1/incidents/%d/collection-plan?kind=server" % iid, viewer)
    check(st == 200 and plan["host"] is None and
          plan["steps"][0]["command"] == shipped["server"]["steps"][0]["command"],
          "without a host, {host} stays in the command")
    check(plan["steps"][0]["kind"] == "memory-dump" and plan["steps"][0]["order"] == "volatile"
          and plan["steps"][-1]["order"] == "logs",
          "a server: memory first, logs last (%s)" % [s["id"] for s in plan["steps"]])
    st, err = call(d, "GET", "/api/v1/incidents/%d/collection-plan?kind=mainframe" % iid, viewer)
    check(st == 404 and err.get("field") == "kind" and "'mainframe'" in err["error"] and
          "cloud, network-device, server and workstation" in err["error"],
          "an unknown kind is named, with the plans there are (%s %s)" % (st, err))
    st, err = call(d, "GET", "/api/v1/incidents/%d/collection-plan" % iid, viewer)
    check(st == 400 and err.get("field") == "kind" and "server" in err["error"],
          "a missing kind is 400 naming the plans (%s %s)" % (st, err))
    st, err = call(d, "GET", "/api/v1/incidents/%d/collection-plan?kind=server&host=%s"
                   % (iid, urllib.parse.quote("web1;rm -rf /")), viewer)
    check(st == 400 and err.get("field") == "host",
          "a host that would inject into the command is refused (%s %s)" % (st, err))
    st, err = call(d, "GET", "/api/v1/incidents/9999/collection-plan?kind=server", viewer)
    check(st == 404 and "no such incident" in err["error"],
          "an unknown incident is 404 (%s %s)" % (st, err))


# Appended to the first-aid phase of a copy of the shipped default.yaml.
COLLECT_TASKS = """
    - title: Take the memory of the server
      owner: responder
      required: true
      collect: server/memory
    - title: Take the printer's spool
      owner: responder
      collect: printer/spool
"""


def site_playbooks(dst):
    """The shipped playbooks and plans, the default playbook with two collect tasks."""
    shutil.copytree(os.path.join(DAEMON_SOURCE, "playbooks"), dst)
    path = os.path.join(dst, "default.yaml")
    with open(path) as f:
        text = f.read()
    marker = "      required: true\n  emergency:"
    assert marker in text, "default.yaml changed: fix the test's insertion point"
    text = text.replace(marker, "      required: true\n" + COLLECT_TASKS.strip("\n") +
                        "\n  emergency:", 1)
    with open(path, "w") as f:
        f.write(text)
    for root, dirs, files in os.walk(dst):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
    os.chmod(dst, 0o755)


def to_first_aid(d, iid, token):
    st, inc = call(d, "GET", "/api/v1/incidents/%d" % iid, token)
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, token,
                   {"version": inc["version"], "phase": "first_aid"})
    check(st == 200, "incident %d enters first aid (%s %s)" % (iid, st, inc if st != 200 else ""))
    st, tl = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, token)
    return {t["title"]: t for t in tl.get("tasks", [])} if st == 200 else {}


def check_tasks(d, analyst, viewer, intake, outside_file):
    """Playbook tasks done by registering their evidence."""
    st, inc = call(d, "POST", "/api/v1/incidents", analyst, {"title": "web2 compromise"})
    iid = inc["id"]
    tasks = to_first_aid(d, iid, analyst)
    mem_t = tasks.get("Take the memory of the server")
    spool_t = tasks.get("Take the printer's spool")
    plain_t = tasks.get("Analyse the impact on our systems and rules")
    if not check(mem_t and spool_t and plain_t, "the collect tasks are in the checklist (%s)"
                 % sorted(tasks)):
        return
    tpath = "/api/v1/incidents/%d/tasks/%d" % (iid, mem_t["id"])
    st, err = call(d, "PATCH", tpath, analyst, {"done": True})
    check(st == 409 and "server/memory" in err["error"] and tpath + "/evidence" in err["error"],
          "a collect task is not ticked by hand: 409 naming the step and the route (%s %s)"
          % (st, err))
    st, lst = call(d, "GET", "/api/v1/evidence", viewer)
    before = len(lst["items"])

    mem = os.path.join(intake, "web2-mem.lime")
    with open(mem, "wb") as f:
        f.write(b"EMiL" + bytes(range(256)) * 64)
    sha, b2, size = digests(mem)
    st, err = call(d, "POST", tpath + "/evidence", analyst, {"path": outside_file})
    check(st == 403 and err.get("field") == "path",
          "through the task, a path outside evidence.intake is refused (%s %s)" % (st, err))
    st, err = call(d, "POST", tpath + "/evidence", analyst, {"kind": "pcap", "path": mem})
    check(st == 400 and err.get("field") == "kind" and "server/memory" in err["error"] and
          "memory-dump" in err["error"],
          "another kind than the step's is refused, naming both (%s %s)" % (st, err))
    st, err = call(d, "POST", tpath + "/evidence", viewer, {"path": mem})
    check(st == 403, "a viewer cannot do it (%s)" % st)
    st, lst = call(d, "GET", "/api/v1/evidence", viewer)
    check(len(lst["items"]) == before, "nothing refused was added")
    st, t = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, viewer)
    check(not [x for x in t["tasks"] if x["id"] == mem_t["id"]][0]["done"],
          "and the task is still open")

    st, got = call(d, "POST", tpath + "/evidence", analyst,
                   {"path": mem, "acquisition": {"host": "web2", "reason": "first aid"}})
    ok = st == 201 and isinstance(got, dict) and "item" in got
    check(ok, "the memory dump registered through the task (%s %s)" % (st, got))
    if not ok:
        return
    item, task = got["item"], got["task"]
    ev = item["id"]
    check(ev == "EV-%d" % (before + 1) and item["kind"] == "memory-dump" and
          item["collection"] == "server/memory" and item["incidents"] == [iid],
          "it is %s, a memory-dump for step server/memory, linked to the incident (%s)"
          % (ev, item))
    check(item["sha256"] == sha and item["blake2b"] == b2 and item["size"] == size,
          "its digests and size are the file's")
    check(item["acquisition"]["tool"].startswith("avml") and
          item["acquisition"]["command"].startswith("avml ") and
          item["acquisition"]["host"] == "web2",
          "the plan's tool and command fill what the body left out (%s)" % item["acquisition"])
    check(task.get("id") == mem_t["id"] and task.get("done") and task.get("done_by") == "alice",
          "the task is done by alice (%s)" % task)
    st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, viewer)
    entries = [e for e in tl.get("timeline", []) if e.get("what") == "task"]
    check(any(("%d done with %s" % (mem_t["id"], ev)) in json.dumps(e) and
              e.get("who") == "alice" for e in entries),
          "its timeline entry names %s (%s)" % (ev, entries))
    st, cust = call(d, "GET", "/api/v1/evidence/%s/custody" % ev[3:], viewer)
    check(st == 200 and [e["action"] for e in cust["custody"]] == ["add"] and
          cust["custody"][0]["actor"] == "api:alice",
          "its custody log starts with the add by api:alice (%s)" % cust)
    st, v = call(d, "POST", "/api/v1/evidence/%s/verify" % ev[3:], analyst)
    check(st == 200 and v["result"] == "ok", "and it verifies (%s)" % v)

    st, err = call(d, "POST", tpath + "/evidence", analyst, {"path": mem})
    check(st == 409 and "done already" in err["error"],
          "a second registration for the done task: 409 (%s %s)" % (st, err))
    st, lst = call(d, "GET", "/api/v1/evidence", viewer)
    check(len(lst["items"]) == before + 1, "and nothing was added")
    st, err = call(d, "POST", "/api/v1/incidents/%d/tasks/%d/evidence" % (iid, plain_t["id"]),
                   analyst, {"kind": "pcap", "path": mem})
    check(st == 409 and "PATCH" in err["error"],
          "a task that needs no evidence is 409 (%s %s)" % (st, err))
    st, err = call(d, "POST", "/api/v1/incidents/%d/tasks/%d/evidence" % (iid, spool_t["id"]),
                   analyst, {"kind": "other", "path": mem})
    check(st == 500 and "printer/spool" in err["error"] and "collection" in err["error"],
          "a step no plan has is 500 naming it (%s %s)" % (st, err))
    st, err = call(d, "POST", "/api/v1/incidents/%d/tasks/99999/evidence" % iid, analyst,
                   {"path": mem})
    check(st == 404, "an unknown task is 404 (%s)" % st)

    # The shipped damage manifest: preserve evidence needs an item.
    st, dm = call(d, "POST", "/api/v1/incidents", analyst,
                  {"title": "web3 defaced", "type": "damage manifest"})
    check(st == 201, "a damage-manifest incident (%s %s)" % (st, dm))
    tasks = to_first_aid(d, dm["id"], analyst)
    pres = tasks.get("Preserve evidence")
    if not check(pres is not None, "its first aid has Preserve evidence (%s)" % sorted(tasks)):
        return
    ppath = "/api/v1/incidents/%d/tasks/%d" % (dm["id"], pres["id"])
    st, err = call(d, "PATCH", ppath, analyst, {"done": True})
    check(st == 409 and "evidence item" in err["error"],
          "Preserve evidence is not ticked without evidence (%s %s)" % (st, err))
    cap = os.path.join(intake, "web3.pcap")
    with open(cap, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    st, got = call(d, "POST", ppath + "/evidence", analyst, {"kind": "pcap", "path": cap})
    check(st == 201 and got["item"]["incidents"] == [dm["id"]] and
          got["item"]["collection"] is None and got["task"]["done"],
          "it is done by registering a pcap for it (%s %s)" % (st, got))
    return ev


def call(d, method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path), data=data,
                                 method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw.strip() else None


def report_md(d, incident, report, token):
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/incidents/%d/reports/%d?format=md"
                                 % (d.http, incident, report))
    req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def digests(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), hashlib.blake2b(data).hexdigest(), len(data)


def daemon_user():
    try:
        return pwd.getpwnam("hikeshi")
    except KeyError:
        return pwd.getpwnam("nobody")


def main():
    d = Daemon(CONFIG)
    keys = os.path.join(d.dir, "keys")
    intake = os.path.join(d.dir, "intake")
    outside = os.path.join(d.dir, "outside")
    for p in (keys, intake, outside):
        os.mkdir(p, 0o755)
    key = os.path.join(keys, "evidence.key")
    r = subprocess.run([BIN, "evidence", "keygen", "-c", d.conf, "--key", key],
                       capture_output=True, text=True)
    check(r.returncode == 0, "evidence keygen (%s)" % (r.stdout + r.stderr).strip()[:200])
    if os.geteuid() == 0:
        # The daemon drops to its user; each seal rewrites the key there.
        who = daemon_user()
        for p in (keys, key, key + ".pub"):
            os.chown(p, who.pw_uid, who.pw_gid)

    pcap = os.path.join(intake, "web1-egress.pcap")
    with open(pcap, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        f.write(b"\x00" * 16 + b"exfil to 198.51.100.53" * 8)
    secret = os.path.join(outside, "shadow-copy")
    with open(secret, "w") as f:
        f.write("not evidence\n")
    os.symlink(secret, os.path.join(intake, "link-out"))

    site_playbooks(os.path.join(d.dir, "site-playbooks"))
    analyst = user_add(d, "alice", "analyst")
    viewer = user_add(d, "victor", "viewer")
    d.start()
    try:
        st, inc = call(d, "POST", "/api/v1/incidents", analyst, {"title": "web1 leak"})
        check(st == 201, "an incident to link to (%s)" % st)
        iid = inc["id"]
        st, other = call(d, "POST", "/api/v1/incidents", analyst, {"title": "unrelated"})

        sha, b2, size = digests(pcap)
        acq = {"by": "alice", "host": "web1", "tool": "tcpdump",
               "command": "tcpdump -i eth0 -w web1-egress.pcap host 198.51.100.53",
               "reason": "suspected exfiltration"}
        st, item = call(d, "POST", "/api/v1/evidence", analyst,
                        {"kind": "pcap", "path": pcap, "acquisition": acq, "incidents": [iid],
                         "purposes": ["investigation", "proof-against-perpetrator"]})
        check(st == 201 and item.get("id") == "EV-1", "add the pcap by path (%s %s)" % (st, item))
        check(item.get("sha256") == sha and item.get("blake2b") == b2 and item.get("size") == size,
              "its SHA-256, BLAKE2b-512 and size are computed by the server")
        check(item.get("storage") == "in-place" and item.get("path") == os.path.realpath(pcap),
              "it stays in place, named by its path")
        check(item.get("acquisition", {}).get("tool") == "tcpdump" and
              item.get("incidents") == [iid] and
              item.get("purposes") == ["investigation", "proof-against-perpetrator"],
              "acquisition, incident and purposes are recorded")

        url_sha = hashlib.sha256(b"memory").hexdigest()
        url_b2 = hashlib.blake2b(b"memory").hexdigest()
        st, ref = call(d, "POST", "/api/v1/evidence", analyst,
                       {"kind": "memory-dump", "url": "s3://forensics/web1/mem.lime",
                        "sha256": url_sha, "blake2b": url_b2, "size": 6,
                        "acquisition": {"host": "web1", "tool": "LiME"}, "incidents": [iid]})
        check(st == 201 and ref.get("id") == "EV-2" and ref.get("storage") == "reference" and
              ref.get("sha256") == url_sha and ref.get("path") == "s3://forensics/web1/mem.lime",
              "add a URL reference with the acquirer's digests (%s %s)" % (st, ref))

        refusals = [
            ({"kind": "pcap", "path": secret}, 403, "path", "a path outside evidence.intake"),
            ({"kind": "pcap", "path": intake + "/../outside/shadow-copy"}, 403, "path",
             "a path leaving evidence.intake by ../"),
            ({"kind": "pcap", "path": os.path.join(intake, "link-out")}, 403, "path",
             "a symbolic link out of evidence.intake"),
            ({"kind": "pcap", "path": "intake/web1-egress.pcap"}, 400, "path", "a relative path"),
            ({"kind": "pcap", "path": pcap, "url": "https://x/y"}, 400, "path",
             "both path and url"),
            ({"kind": "memory-dump", "url": "s3://forensics/x"}, 400, "sha256",
             "a URL without its digests"),
            ({"kind": "memory-dump", "url": "not a url", "sha256": url_sha, "blake2b": url_b2,
              "size": 6}, 400, "url", "a URL with a space and no scheme"),
            ({"kind": "pcap", "path": pcap, "sha256": "AB" * 32}, 400, "sha256",
             "upper-case hex"),
            ({"kind": "floppy", "path": pcap}, 400, None, "an unknown kind"),
            ({"kind": "pcap", "path": pcap, "purposes": ["curiosity"]}, 400, None,
             "an unknown purpose"),
            ({"kind": "pcap", "path": pcap, "incidents": [9999]}, 400, "incidents",
             "an unknown incident"),
            ({"kind": "pcap", "path": pcap, "colour": "red"}, 400, None, "an unknown field"),
            ({"kind": "pcap", "path": pcap, "sha256": "0" * 64}, 409, "path",
             "a file whose SHA-256 is not the one given"),
        ]
        for body, status, field, what in refusals:
            st, err = call(d, "POST", "/api/v1/evidence", analyst, body)
            check(st == status and (field is None or (err or {}).get("field") == field),
                  "%s is refused: %s (%s)" % (what, st, err))
        st, err = call(d, "POST", "/api/v1/evidence", viewer, {"kind": "pcap", "path": pcap})
        check(st == 403, "a viewer cannot add (%s)" % st)
        st, lst = call(d, "GET", "/api/v1/evidence", viewer)
        check(st == 200 and [i["id"] for i in lst["items"]] == ["EV-1", "EV-2"],
              "nothing refused was added; a viewer lists the two items (%s)" % lst)
        st, lst = call(d, "GET", "/api/v1/evidence?incident=%d" % other["id"], viewer)
        check(st == 200 and lst["items"] == [], "the other incident has no evidence")
        st, lst = call(d, "GET", "/api/v1/evidence?incident=%d" % iid, viewer)
        check(st == 200 and len(lst["items"]) == 2, "the incident's filter finds both")
        st, _ = call(d, "GET", "/api/v1/evidence?incident=x", viewer)
        check(st == 400, "a bad incident filter is 400")

        st, err = call(d, "POST", "/api/v1/evidence/1/transfer", analyst,
                       {"from": "bob", "to": "carol", "reason": "lab"})
        check(st == 409 and "held by 'alice'" in err["error"],
              "a hand-over by someone who does not hold it is refused (%s)" % err)
        st, cust = call(d, "POST", "/api/v1/evidence/1/transfer", analyst,
                        {"from": "alice", "to": "bob", "reason": "to the lab"})
        check(st == 200 and cust["custody"][-1]["details"] ==
              {"from": "alice", "to": "bob", "reason": "to the lab"}, "alice hands it to bob")
        st, cust = call(d, "POST", "/api/v1/evidence/1/transfer", analyst,
                        {"from": "bob", "to": "carol", "reason": "court"})
        check(st == 200 and cust["custody"][-1]["actor"] == "api:alice",
              "bob hands it to carol; the entry names the API user")
        st, _ = call(d, "POST", "/api/v1/evidence/1/transfer", viewer,
                     {"from": "carol", "to": "dave"})
        check(st == 403, "a viewer cannot hand over (%s)" % st)
        st, _ = call(d, "POST", "/api/v1/evidence/99/transfer", analyst,
                     {"from": "carol", "to": "dave"})
        check(st == 404, "no such item: 404 (%s)" % st)

        st, v = call(d, "POST", "/api/v1/evidence/1/verify", analyst)
        check(st == 200 and v["result"] == "ok" and v["faults"] == [], "verify: intact (%s)" % v)
        st, v = call(d, "POST", "/api/v1/evidence/2/verify", analyst)
        check(st == 200 and v["result"] == "ok", "a URL reference's custody verifies")

        st, cust = call(d, "GET", "/api/v1/evidence/1/custody", viewer)
        actions = [e["action"] for e in cust["custody"]]
        check(actions == ["add", "transfer", "transfer", "verify"],
              "the custody log, in order, without an access for reading it (%s)" % actions)
        st, shown = call(d, "GET", "/api/v1/evidence/1", viewer)
        check(st == 200 and shown["record"]["sha256"] == sha and
              shown["custody"][-1]["action"] == "access" and
              shown["custody"][-1]["details"] == {"how": "api"} and
              shown["custody"][-1]["actor"] == "api:victor",
              "showing an item records the viewer's access")

        with open(pcap, "r+b") as f:
            f.seek(40)
            b = f.read(1)
            f.seek(40)
            f.write(bytes([b[0] ^ 1]))
        st, v = call(d, "POST", "/api/v1/evidence/1/verify", analyst)
        check(st == 200 and v["result"] == "failed" and
              any("EV-1" in x and "SHA-256 mismatch" in x for x in v["faults"]),
              "a flipped byte of the file is named (%s)" % v)
        st, cust = call(d, "GET", "/api/v1/evidence/1/custody", viewer)
        check(cust["custody"][-1]["details"].get("result") == "failed",
              "and the failed check is in the custody log")

        check_plans(d, iid, viewer)
        task_ev = check_tasks(d, analyst, viewer, intake, secret)

        # The incident's final report lists its evidence and custody.
        st, rep = call(d, "POST", "/api/v1/incidents/%d/reports" % iid, analyst,
                       {"kind": "final", "lessons": "keep captures"})
        check(st == 201, "a final report (%s %s)" % (st, rep if st != 201 else ""))
        md = report_md(d, iid, rep["id"], viewer) if st == 201 else ""
        sect = md.split("Evidence register and chain of custody", 1)[-1]
        check("Evidence register and chain of custody" in md and
              "- EV-1 pcap web1-egress.pcap, %d bytes, SHA-256 %s, in-place, acquired by alice "
              "on web1 with tcpdump" % (size, sha) in sect,
              "the final report lists EV-1 with its digest and acquisition")
        check("api:alice transfer: alice -> bob (to the lab)" in sect and
              "api:alice transfer: bob -> carol (court)" in sect and
              "api:victor access" in sect and "- EV-2 memory-dump mem.lime" in sect,
              "and each item's chain of custody, hand-overs and access included")
        st, rep = call(d, "POST", "/api/v1/incidents/%d/reports" % other["id"], analyst,
                       {"kind": "final"})
        check(st == 201 and "No item in the evidence register is linked to this incident" in
              report_md(d, other["id"], rep["id"], viewer),
              "the final report of an incident without evidence says it has none")

        # A hikeshi evidence command holds the register: writes answer at once.
        lock = open(os.path.join(d.data, "evidence", "lock"), "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        st, err = call(d, "POST", "/api/v1/evidence/2/verify", analyst)
        check(st == 503 and "another hikeshi evidence command" in err["error"],
              "the register held elsewhere: 503 at once (%s)" % err)
        st, _ = call(d, "GET", "/api/v1/evidence", viewer)
        check(st == 200, "the list still answers")
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    finally:
        check(d.stop() == 0, "the daemon stops cleanly")

    with open(os.path.join(d.data, "audit.log")) as f:
        audit = [json.loads(l) for l in f if l.strip()]
    ev = [(a.get("actor"), a.get("action"), a.get("object")) for a in audit
          if str(a.get("action", "")).startswith("evidence.")]
    for want in (("api:alice", "evidence.add", "evidence/EV-1"),
                 ("api:alice", "evidence.add", "evidence/EV-2"),
                 ("api:alice", "evidence.transfer", "evidence/EV-1"),
                 ("api:alice", "evidence.verify", "evidence/EV-1"),
                 ("api:victor", "evidence.access", "evidence/EV-1"),
                 ("api:alice", "evidence.add", "evidence/%s" % task_ev)):
        check(want in ev, "the audit log holds %s" % (want,))
    check(any(a.get("action") == "task.update" and ("done with %s" % task_ev) in json.dumps(a)
              for a in audit), "and the task's tick naming %s" % task_ev)
    r = subprocess.run([BIN, "audit", "verify", "-c", d.conf], capture_output=True, text=True)
    check(r.returncode == 0, "the audit log's chain is intact (%s)" % r.stdout.strip()[-200:])
    # The chain the daemon sealed continues under the CLI with the same key.
    r = subprocess.run([BIN, "evidence", "verify", "-c", d.conf, "--key", key, "EV-2"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "EV-2: intact" in r.stdout,
          "the CLI verifies the custody the daemon sealed (%s)" % (r.stdout + r.stderr).strip())

    # The site's own playbooks, with a collection plan out of order.
    pb = os.path.join(d.dir, "playbooks")
    shutil.copytree(os.path.join(DAEMON_SOURCE, "playbooks"), pb)
    with open(os.path.join(pb, "collection", "printer.yaml"), "w") as f:
        f.write("plan: printer\nsteps:\n"
                "  - {id: spool, what: the spool, order: disk, kind: other}\n"
                "  - {id: jobs, what: jobs in memory, order: volatile, kind: memory-dump}\n")
    os.chmod(pb, 0o755)
    d.write_config(NO_KEY_CONFIG)
    d.start()
    try:
        st, err = call(d, "GET", "/api/v1/incidents/1/collection-plan?kind=server", viewer)
        check(st == 500 and "printer.yaml:4:" in err["error"] and
              "step jobs (volatile) comes after step spool (disk)" in err["error"],
              "a plan out of order is named with its file and line (%s %s)" % (st, err))
        st, err = call(d, "POST", "/api/v1/evidence/2/verify", analyst)
        check(st == 503 and "evidence.key" in err["error"],
              "without evidence.key a write answers 503 (%s)" % err)
        st, lst = call(d, "GET", "/api/v1/evidence", viewer)
        check(st == 200 and len(lst["items"]) == 4,
              "and the list still answers (two items, and the two the tasks registered)")
    finally:
        d.stop()


if __name__ == "__main__":
    main()
    finish()
