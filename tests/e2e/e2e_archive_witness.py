"""Seals exported to external witnesses, and an archive checked against them
(issue 17, docs/archive.md "Witnesses"), on the real binary.

A sealing daemon (a seal every 500 records) has three witnesses under
archive.witness: a file outside data_dir, a URL served by an HTTP receiver
this test runs, which checks each POST's HMAC signature and answers 503 to
the first two (the daemon must retry, count the failures in /metrics and
/api/v1/health, and go on), and another hikeshi, whose http-bulk input
(with an API key) archives each seal as one of its own records.  Two runs of numbered lines over
TCP, the signing key copied between them (a thief's copy), then:
  - the file and the receiver hold every seal verify counts, once each, in
    epoch order, the receiver's bodies equal to the file's lines; the other
    hikeshi's archive holds the same lines (`archive cat`), and verifies;
  - `archive verify --witness FILE` passes, for the file and for the
    receiver's copy;
  - a clean cut (the archive as it was after run 1) passes verify with the
    verification key alone, and fails with --witness: the witnessed seals
    of run 2 are not there;
  - a consistent rewrite with the stolen key (run 1's archive continued by
    another daemon holding the key copy, with other lines) passes verify
    with the verification key, and fails with --witness, named as
    rewritten at run 2's first seal;
  - a changed byte in the witness file is a bad line, not a crash.
A restart does not send the seals a witness already took again.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, wait_for  # noqa: E402

SECRET = b"w" * 40
RUN = 3000  # lines per run

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: tcp
    type: syslog-tcp
    listen: 127.0.0.1:{port}
archive:
  key: KEYS/archive.key
  seal_records: 500
  witness:
    - file: WIT/seals.jsonl
    - url: URL
      secret_file: WIT/secret
    - hikeshi: http://127.0.0.1:WPORT/_bulk
      auth_header: "Authorization: ApiKey WKEY"
"""

WITNESS_CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: seals
    type: http-bulk
    listen: 127.0.0.1:{port}
    api_keys: ["wid:wkey-0123456789"]
archive:
  key: {dir}/keys/archive.key
"""


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies = []
    bad_sig = 0
    refused = 0
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Hikeshi-Timestamp", "")
        sig = self.headers.get("X-Hikeshi-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        with Receiver.lock:
            if not hmac.compare_digest(sig, want):
                Receiver.bad_sig += 1
                code = 401
            elif Receiver.refused < 2:
                Receiver.refused += 1
                code = 503
            else:
                Receiver.bodies.append(body.decode())
                code = 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)


def send(d, start, n, tag):
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"".join(b"<14>Oct 11 22:14:15 web1 app[77]: %s n%06d\n" % (tag, i)
                       for i in range(start, start + n)))
    s.close()


def health(d):
    return json.loads(d.get("/api/v1/health")[2])


def give(path, who):
    if who:
        os.chown(path, who.pw_uid, who.pw_gid)


def lines_of(path):
    with open(path) as f:
        return [ln.rstrip("\n") for ln in f if ln.strip()]


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/seals" % srv.server_address[1]

    w = Daemon(WITNESS_CONFIG)  # the other hikeshi
    d = Daemon(CONFIG)
    who = None
    if os.geteuid() == 0:
        try:
            who = pwd.getpwnam("hikeshi")
        except KeyError:
            who = pwd.getpwnam("nobody")
    keys = os.path.join(d.dir, "keys")
    wit = os.path.join(d.dir, "witness")
    os.mkdir(keys, 0o700)
    os.mkdir(wit, 0o700)
    give(keys, who)
    give(wit, who)
    with open(os.path.join(wit, "secret"), "wb") as f:
        f.write(SECRET + b"\n")
    os.chmod(os.path.join(wit, "secret"), 0o600)
    give(os.path.join(wit, "secret"), who)
    wkey = base64.b64encode(b"wid:wkey-0123456789").decode()
    with open(d.conf) as f:
        text = (f.read().replace("KEYS", keys).replace("WIT", wit).replace("URL", url)
                .replace("WPORT", str(w.port)).replace("WKEY", wkey))
    with open(d.conf, "w") as f:
        f.write(text)
    r = run("archive", "keygen", "-c", d.conf)
    check(r.returncode == 0, "archive keygen: %s" % (r.stdout + r.stderr).strip()[:200])
    wkeys = os.path.join(w.dir, "keys")
    os.mkdir(wkeys, 0o700)
    give(wkeys, who)
    r = run("archive", "keygen", "-c", w.conf)
    check(r.returncode == 0, "the witness hikeshi's archive keygen")
    for x in os.listdir(wkeys):
        give(os.path.join(wkeys, x), who)
    w.start()
    key = os.path.join(keys, "archive.key")
    pub = key + ".pub"
    seals_file = os.path.join(wit, "seals.jsonl")
    archive = os.path.join(d.data, "archive")

    # Run 1.
    d.start()
    send(d, 0, RUN, b"first")
    check(wait_for(lambda: health(d)["archive"]["cursor"] == RUN, timeout=60),
          "run 1: every line processed")
    check(wait_for(lambda: os.path.exists(seals_file) and len(lines_of(seals_file)) >= 6,
                   timeout=30),
          "run 1: the file witness receives the seals as they are made")
    check(wait_for(lambda: len(Receiver.bodies) >= 6, timeout=60),
          "run 1: the URL witness receives them after its two refusals")
    _, _, metrics = d.get("/metrics")
    fails = d.metric(metrics, "hikeshi_archive_witness_failures_total", 'witness="%s"' % url)
    sent = d.metric(metrics, "hikeshi_archive_witness_seals_sent_total", 'witness="%s"' % url)
    check(fails == 2 and sent is not None and sent >= 6,
          "/metrics counts the URL witness's 2 refusals and its seals (%s, %s)" % (fails, sent))
    wh = {w["target"]: w for w in health(d)["archive"]["witness"]}
    check(set(wh) == {seals_file, url, "http://127.0.0.1:%d/_bulk" % w.port}
          and not wh[url]["failing"]
          and wh[url]["failures"] == 2 and wh[seals_file]["failures"] == 0,
          "health shows the three witnesses, the URL one recovered: %s" % wh)
    check("archive witness %s: seal of epoch 0 not taken: " % url in d.read_log()
          and "taking seals again from epoch 0" in d.read_log(),
          "the log says the URL witness failed and recovered")
    check(d.stop() == 0, "run 1: the daemon stops cleanly")
    snap = os.path.join(d.dir, "snap")
    shutil.copytree(d.data, snap)  # the archive and store as run 1 left them
    thief = os.path.join(d.dir, "thief")
    os.mkdir(thief, 0o700)
    give(thief, who)
    stolen = os.path.join(thief, "archive.key")
    shutil.copy(key, stolen)  # a thief's copy of the key at this epoch
    n1 = len(lines_of(seals_file))

    # Run 2: the restart sends only new seals.
    d.start()
    send(d, RUN, RUN, b"second")
    check(wait_for(lambda: health(d)["archive"]["cursor"] == 2 * RUN, timeout=60),
          "run 2: every line processed")
    check(d.stop() == 0, "run 2: the daemon stops cleanly")
    check(Receiver.bad_sig == 0, "every POST carried a good signature")

    r = run("archive", "verify", "-c", d.conf, "--json")
    v = json.loads(r.stdout or "{}")
    nseals = v.get("seals", -1)
    wl = lines_of(seals_file)
    epochs = [json.loads(x)["epoch"] for x in wl]
    check(r.returncode == 0 and epochs == list(range(nseals)),
          "the file witness holds each of the %d seals once, in order (%s)"
          % (nseals, epochs))
    check(Receiver.bodies == wl, "the URL witness took the same seals, byte for byte")
    check(len(wl) > n1, "run 2 added seals after the restart (%d, %d)" % (n1, len(wl)))

    # The other hikeshi: its archive holds the same lines, sealed.
    check(wait_for(lambda: json.loads(w.get("/api/v1/health")[2])["archive"]["cursor"]
                   == len(wl), timeout=30), "the witness hikeshi took %d seals" % len(wl))
    check(w.stop() == 0, "the witness hikeshi stops cleanly")
    r = run("archive", "cat", "-c", w.conf, "-f", "raw")
    wlines = [x for x in r.stdout.splitlines() if x.strip()]
    check(wlines == wl, "the witness hikeshi archived the same seal lines, in order (%d, %d)"
          % (len(wlines), len(wl)))
    r = run("archive", "verify", "-c", w.conf)
    check(r.returncode == 0, "the witness hikeshi's own archive verifies: %s"
          % (r.stdout + r.stderr).strip()[:200])
    from_w = os.path.join(d.dir, "from-witness-hikeshi.jsonl")
    with open(from_w, "w") as f:
        f.write("".join(x + "\n" for x in wlines))
    r = run("archive", "verify", "-c", d.conf, "--witness", from_w)
    check(r.returncode == 0 and "all in the archive" in r.stdout,
          "verify --witness passes against the other hikeshi's copy: %s" % r.stdout[-300:])

    r = run("archive", "verify", "-c", d.conf, "--witness", seals_file)
    check(r.returncode == 0 and re.search(r"witness .*: %d witnessed seals, all in the archive"
                                          % nseals, r.stdout),
          "verify --witness passes: %s" % (r.stdout + r.stderr).strip()[:400])
    recv_copy = os.path.join(d.dir, "received.jsonl")
    with open(recv_copy, "w") as f:
        f.write("".join(b + "\n" for b in Receiver.bodies))
    r = run("archive", "verify", "-c", d.conf, "--witness", recv_copy, "--json")
    w = json.loads(r.stdout or "{}").get("witness", {})
    check(r.returncode == 0 and w.get("matched") == nseals and w.get("fault") is None,
          "verify --witness passes for the receiver's copy: %s" % r.stdout[:300])

    # A clean cut: the archive as run 1 left it.
    cut = os.path.join(snap, "archive")
    r = run("archive", "verify", "--dir", cut, "--pub", pub)
    check(r.returncode == 0, "a clean cut passes verify without a witness: %s"
          % r.stdout.strip()[:200])
    r = run("archive", "verify", "--dir", cut, "--pub", pub, "--witness", seals_file)
    check(r.returncode == 1 and "is not in the archive: cut off" in r.stdout
          and "line %d" % (n1 + 1) in r.stdout,
          "with the witness, the cut is found at run 2's first seal: %s"
          % r.stdout.strip()[:500])

    # A rewrite with the stolen key: run 1's archive continued with other
    # lines by a daemon that holds the key copy.
    f = Daemon(re.sub(r"  witness:\n(    .*\n)+", "",
                      CONFIG.replace("KEYS/archive.key", stolen)))
    shutil.rmtree(f.data, ignore_errors=True)
    shutil.copytree(snap, f.data)
    if who:
        for root, dirs, files in os.walk(f.data):
            for x in dirs + files:
                os.chown(os.path.join(root, x), who.pw_uid, who.pw_gid)
        give(f.data, who)
        give(stolen, who)
    f.start()
    send(f, RUN, RUN, b"forged")
    check(wait_for(lambda: health(f)["archive"]["cursor"] == 2 * RUN, timeout=60),
          "the forger's run: every line processed")
    check(f.stop() == 0, "the forger's daemon stops cleanly")
    forged = os.path.join(f.data, "archive")
    r = run("archive", "verify", "--dir", forged, "--pub", pub)
    check(r.returncode == 0,
          "the rewrite passes verify with the verification key alone: %s"
          % r.stdout.strip()[:200])
    r = run("archive", "verify", "--dir", forged, "--pub", pub, "--witness", seals_file)
    check(r.returncode == 1 and "the archive was rewritten" in r.stdout
          and "line %d" % (n1 + 1) in r.stdout,
          "with the witness, the rewrite is named at run 2's first seal: %s"
          % r.stdout.strip()[:500])

    # A damaged witness line is reported, not a crash.
    bad = os.path.join(d.dir, "bad.jsonl")
    with open(bad, "w") as out:
        for i, x in enumerate(wl):
            if i == 1:
                x = x.replace('"seal":"', '"seal":"0', 1)[:-2] + '"}'
            out.write(x + "\n")
        out.write("not json\n")
    r = run("archive", "verify", "-c", d.conf, "--witness", bad)
    check(r.returncode == 1 and "first at line 2: not a witnessed seal" in r.stdout
          and "2 bad lines" in r.stdout,
          "bad witness lines are named: %s" % r.stdout.strip()[:400])
    srv.shutdown()
    if finish() == 0:
        shutil.rmtree(d.dir, ignore_errors=True)
        shutil.rmtree(f.dir, ignore_errors=True)
        shutil.rmtree(w.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
