"""End to end: information-leak playbooks and task deadlines that act
(issue 25, docs/incident.md "Leak playbooks" and "Overdue tasks").

The daemon runs with the shipped playbooks and leak playbooks, except that
this test's copy of leak/p2p.yaml gets a watch-phase task due 3 s after
the leak type is set (owner csirt-lead) and one due 8 s after, plus a
leak/bad.yaml whose task names no function.  An incident opened with
leak_type p2p must get the P2P tasks (box leak:p2p) and the common stages
(box leak), each with its NIST CSF function and its due time counted from
the creation (the regulator's 72 h); setting p2p again, or clearing and
setting it, adds nothing; malware adds its own tasks only.  The 8 s task
is ticked at once.  The 3 s one passes undone: overdue in the task JSON,
hikeshi_task_overdue 1, one signed webhook task.overdue to Carol Lead (the
contact whose role is csirt-lead), one timeline and one audit entry;
after kill -9 and a restart nothing fires again, and the ticked task never
fires.  Bad leak types are refused naming the field; the bad file is
logged with its line and skipped."""

import datetime
import glob
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, DAEMON_SOURCE, Daemon, call, check, finish, free_port,  # noqa: E402
                     promtool_check, user_add, wait_for)

SECRET = b"L" * 16 + os.urandom(16).hex().encode()

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: udp
    type: syslog-udp
    listen: 127.0.0.1:{port}
incident:
  playbooks: {dir}/pb
  targets:
    - {{phase: new, seconds: 86400}}
  escalation:
    lead_time: 1m
    notify: [http://127.0.0.1:HOOKPORT/hook]
    secret_file: {dir}/hook.key
"""

EXTRA_P2P = """
  watch:
    - title: Check that the takedowns held
      owner: csirt-lead
      function: detect
      due: 3s
    - title: Confirm the shared folder is empty
      owner: analyst
      function: protect
      due: 8s
"""

BAD = """name: No function
leak: [insider]
phases:
  first_aid:
    - title: A task without its function
      owner: analyst
"""

received = []  # (document, signature good)
lock = threading.Lock()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Hikeshi-Timestamp", "")
        sig = self.headers.get("X-Hikeshi-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {"unparsed": body.decode(errors="replace")}
        with lock:
            received.append((doc, hmac.compare_digest(sig, want)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def task_hooks():
    with lock:
        return [(doc, ok) for doc, ok in received if doc.get("event") == "task.overdue"]


def iso(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def yaml_titles(path):
    """The task titles of a leak playbook, read plainly (one per line)."""
    return [l.split("title:", 1)[1].strip() for l in open(path) if l.strip().startswith("- title:")]


def kill9(d):
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.logf.close()


def main():
    hook_port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    d = Daemon(CONFIG.replace("HOOKPORT", str(hook_port)))
    pb = os.path.join(d.dir, "pb")
    os.makedirs(os.path.join(pb, "leak"))
    for f in glob.glob(os.path.join(DAEMON_SOURCE, "playbooks", "*.yaml")):
        shutil.copy(f, pb)
    shipped = os.path.join(DAEMON_SOURCE, "playbooks", "leak")
    for f in glob.glob(os.path.join(shipped, "*.yaml")):
        shutil.copy(f, os.path.join(pb, "leak"))
    with open(os.path.join(pb, "leak", "p2p.yaml"), "a") as f:
        f.write(EXTRA_P2P)
    with open(os.path.join(pb, "leak", "bad.yaml"), "w") as f:
        f.write(BAD)
    key = os.path.join(d.dir, "hook.key")
    with open(key, "wb") as f:
        f.write(SECRET)
    os.chmod(key, 0o600)
    os.chmod(pb, 0o755)
    d.start()
    log = d.read_log()
    check("leak playbook" in log and "bad.yaml:5:7" in log and "names its function" in log,
          "the leak playbook without a function is logged with its line and column")
    tok = user_add(d, "alice", "analyst")
    st, _ = call(d, "POST", "/api/v1/contacts", tok,
                 {"name": "Carol Lead", "kind": "vertical", "role": "csirt-lead",
                  "email": "carol@example.org"})
    check(st == 201, "contact Carol Lead (csirt-lead) added (%s)" % st)

    # --- refused values ----------------------------------------------------
    st, err = call(d, "POST", "/api/v1/incidents", tok, {"title": "x", "leak_type": "usb"})
    check(st == 400 and "leak_type" in json.dumps(err), "an unknown leak type is refused "
          "naming leak_type (%s %s)" % (st, err))
    st, err = call(d, "POST", "/api/v1/incidents", tok, {"title": "x", "leak_type": 4})
    check(st == 400 and "leak_type" in json.dumps(err), "a number is no leak type (%s)" % st)

    # --- an incident opened as a P2P leak ----------------------------------
    st, inc = call(d, "POST", "/api/v1/incidents", tok,
                   {"title": "Customer list on a file-sharing network", "leak_type": "p2p"})
    check(st == 201 and inc.get("leak_type") == "p2p", "incident opened with leak_type p2p "
          "(%s %s)" % (st, inc.get("leak_type")))
    iid = inc["id"]
    created = inc["created_us"] / 1e6
    st, body = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, tok)
    tasks = body["tasks"]
    p2p = [t for t in tasks if t.get("box") == "leak:p2p"]
    common = [t for t in tasks if t.get("box") == "leak"]
    want_p2p = yaml_titles(os.path.join(pb, "leak", "p2p.yaml"))
    want_common = yaml_titles(os.path.join(shipped, "common.yaml"))
    print("p2p:", [(t["title"], t["function"], t["due"]) for t in p2p])
    check([t["title"] for t in p2p] == want_p2p and len(want_p2p) == 6,
          "the P2P playbook's %d tasks are on the checklist, box leak:p2p" % len(want_p2p))
    check([t["title"] for t in common] == want_common and len(want_common) >= 7,
          "the common stages' %d tasks too, box leak" % len(want_common))
    fns = {"identify", "protect", "detect", "respond", "recover"}
    check(all(t["function"] in fns for t in p2p + common),
          "every leak task names its NIST CSF function")
    reg = [t for t in common if "regulator" in t["title"]]
    check(len(reg) == 1 and reg[0]["due"] and
          abs(iso(reg[0]["due"]) - (created + 72 * 3600)) <= 2 and reg[0]["phase"] == "emergency",
          "the regulator's report is due 72 h after the leak type was set (%s, created %s)"
          % (reg and reg[0]["due"], inc.get("created_us")))
    ident = [t for t in p2p if t["title"].startswith("Identify the sharing node")]
    check(len(ident) == 1 and ident[0]["function"] == "identify" and
          abs(iso(ident[0]["due"]) - (created + 4 * 3600)) <= 2 and ident[0]["required"],
          "identifying the node: identify, required, due in 4 h")
    check(all(t["overdue"] is False for t in p2p + common), "nothing is overdue yet")
    st, tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, tok)
    ent = [(e["what"], e.get("to")) for e in tl["timeline"]]
    print("timeline:", ent)
    check(("leak_type", "p2p") in ent and
          ("leak_playbook", "leak:p2p: %d tasks" % (len(p2p) + len(common))) in ent,
          "the timeline has the leak type and the playbook's tasks")

    # The 8 s task is done at once: it must never be escalated.
    folder = [t for t in p2p if t["title"] == "Confirm the shared folder is empty"][0]
    st, _ = call(d, "PATCH", "/api/v1/incidents/%d/tasks/%d" % (iid, folder["id"]), tok,
                 {"done": True})
    check(st == 200, "the 8 s task ticked (%s)" % st)

    # --- setting it again adds nothing ------------------------------------
    n_before = len(tasks)
    inc = call(d, "GET", "/api/v1/incidents/%d" % iid, tok)[1]
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, tok,
                   {"leak_type": "p2p", "version": inc["version"]})
    check(st == 200, "p2p again accepted (%s)" % st)
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, tok,
                   {"leak_type": None, "version": inc["version"]})
    check(st == 200 and inc.get("leak_type") is None, "leak_type cleared (%s)" % st)
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, tok,
                   {"leak_type": "p2p", "version": inc["version"]})
    check(st == 200 and inc.get("leak_type") == "p2p", "and set to p2p again (%s)" % st)
    tasks = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, tok)[1]["tasks"]
    check(len(tasks) == n_before, "setting p2p again adds no task (%d, %d)"
          % (len(tasks), n_before))
    st, inc = call(d, "PATCH", "/api/v1/incidents/%d" % iid, tok,
                   {"leak_type": "malware", "version": inc["version"]})
    tasks = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, tok)[1]["tasks"]
    mal = [t for t in tasks if t.get("box") == "leak:malware"]
    check(st == 200 and [t["title"] for t in mal] ==
          yaml_titles(os.path.join(shipped, "malware.yaml")) and
          len([t for t in tasks if t.get("box") == "leak"]) == len(want_common),
          "malware adds its own tasks, not the common stages again")
    tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, tok)[1]["timeline"]
    check([e.get("to", "").split(":")[1] for e in tl if e["what"] == "leak_playbook"] ==
          ["p2p", "malware"], "two leak_playbook entries: p2p, then malware")

    # --- the command line: hikeshi incident update --leak-type -------------
    st, lap = call(d, "POST", "/api/v1/incidents", tok, {"title": "Laptop stolen from a car"})
    check(st == 201 and lap.get("leak_type") is None, "an incident without a leak type (%s)" % st)
    env = dict(os.environ, HIKESHI_TOKEN=tok)
    r = subprocess.run([BIN, "incident", "-c", d.conf, "update", str(lap["id"]), "--leak-type",
                        "loss-theft"], capture_output=True, text=True, env=env, timeout=60)
    lt = call(d, "GET", "/api/v1/incidents/%d/tasks" % lap["id"], tok)[1]["tasks"]
    check(r.returncode == 0 and
          [t["title"] for t in lt if t.get("box") == "leak:loss-theft"] ==
          yaml_titles(os.path.join(shipped, "loss-theft.yaml")) and
          len([t for t in lt if t.get("box") == "leak"]) == len(want_common),
          "hikeshi incident update --leak-type loss-theft brings its tasks and the common "
          "stages (%s %r)" % (r.returncode, r.stderr))
    r = subprocess.run([BIN, "incident", "-c", d.conf, "show", str(lap["id"])],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 0 and "loss-theft" in r.stdout and "leak_type" in r.stdout,
          "hikeshi incident show prints the leak type")
    r = subprocess.run([BIN, "incident", "-c", d.conf, "update", str(lap["id"]), "--leak-type",
                        "usb"], capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode != 0 and "leak_type" in r.stderr,
          "--leak-type usb is refused naming leak_type (%s %r)" % (r.returncode, r.stderr))

    # --- the 3 s task passes undone ----------------------------------------
    def overdue_tasks():
        ts = call(d, "GET", "/api/v1/incidents/%d/tasks" % iid, tok)[1]["tasks"]
        return [t for t in ts if t["overdue"]]

    check(wait_for(lambda: len(task_hooks()) >= 1, timeout=20), "a task.overdue webhook came")
    od = overdue_tasks()
    check([t["title"] for t in od] == ["Check that the takedowns held"],
          "the task JSON says overdue for the 3 s task only (%s)" % [t["title"] for t in od])
    doc, ok = task_hooks()[0]
    print("webhook:", doc)
    check(ok and doc["incident"] == iid and doc["task_title"] == "Check that the takedowns held"
          and doc["function"] == "detect" and doc["owner"] == "csirt-lead" and
          doc["to"] == "Carol Lead" and (doc.get("contact") or {}).get("email") ==
          "carol@example.org", "signed, naming the task, its function, and Carol Lead "
          "(the csirt-lead contact)")
    # Past the ticked task's due time too.
    time.sleep(max(0, created + 8 + 2.5 - time.time()))
    m = d.get("/metrics")[2]
    promtool_check(m, "/metrics with overdue tasks")
    check(d.metric(m, "hikeshi_task_overdue") == 1, "hikeshi_task_overdue is 1")
    check(d.metric(m, "hikeshi_task_escalations_total") == 1,
          "hikeshi_task_escalations_total is 1")
    check(len(task_hooks()) == 1, "one webhook: the ticked 8 s task is not escalated (%d)"
          % len(task_hooks()))

    # --- kill -9 and restart: nothing again --------------------------------
    kill9(d)
    d.start()
    check(wait_for(lambda: d.metric(d.get("/metrics")[2], "hikeshi_task_overdue") == 1,
                   timeout=10), "after the restart the clock counts the overdue task")
    time.sleep(2)
    m = d.get("/metrics")[2]
    check(d.metric(m, "hikeshi_task_escalations_total") == 0 and len(task_hooks()) == 1,
          "after kill -9 and a restart the task is not escalated again")
    tl = call(d, "GET", "/api/v1/incidents/%d/timeline" % iid, tok)[1]["timeline"]
    od_tl = [e for e in tl if e["what"] == "task_overdue"]
    print("task_overdue timeline:", od_tl)
    check(len(od_tl) == 1 and od_tl[0]["from"] == "Check that the takedowns held" and
          "Carol Lead" in od_tl[0]["to"], "one task_overdue timeline entry, naming the task "
          "and Carol Lead")
    check(d.stop() == 0, "daemon stops cleanly")

    con = d.db()
    rows = [tuple(r) for r in con.execute(
        "SELECT incident_id, phase, step FROM incident_clock WHERE phase LIKE 'task:%'")]
    con.close()
    check(rows == [(iid, "task:%d" % [t for t in tasks if t["title"] ==
                                       "Check that the takedowns held"][0]["id"], 1)],
          "the store holds the task's fired state once (%s)" % rows)
    audit = [json.loads(l) for l in open(os.path.join(d.data, "audit.log"), "rb").read()
             .split(b"\n") if l.strip()]
    od_audit = [e for e in audit if e["action"] == "task.overdue"]
    check(len(od_audit) == 1 and od_audit[0]["actor"] == "hikeshi" and
          od_audit[0]["object"] == "incident/%d" % iid, "one task.overdue audit entry, by hikeshi")
    creates = [e for e in audit if e["action"] == "incident.create" and
               e["object"] == "incident/%d" % iid]
    check(len(creates) == 1 and "leak_tasks" in json.dumps(creates[0].get("details")),
          "the creation's audit entry counts the leak tasks")
    srv.shutdown()


if __name__ == "__main__":
    main()
    finish()
