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
directory is 500 naming its file and line."""

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
  playbooks: {src}/playbooks
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
                 ("api:victor", "evidence.access", "evidence/EV-1")):
        check(want in ev, "the audit log holds %s" % (want,))
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
        check(st == 200 and len(lst["items"]) == 2, "and the list still answers")
    finally:
        d.stop()


if __name__ == "__main__":
    main()
    finish()
