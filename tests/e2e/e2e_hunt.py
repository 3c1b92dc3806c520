"""hikeshi hunt and GET /api/v1/events against a brute force (issue 17).

The daemon, with its archive on (the default), receives known lines on
two inputs: sshd logins over syslog-tcp (decoder auto) and flat JSON
objects over json-tcp, in three batches two seconds apart.  The records'
receive times and numbers come from `hikeshi archive cat -f jsonl`; every
query is then answered by a Python filter over the lines' known fields and
raw text, and hunt must return exactly those records:
  - words, phrases, field =, wildcards, CIDR (IPv4 and IPv6), !=, numbers,
    regex, AND/OR/NOT with parentheses, _raw regex, a time range;
  - -f csv and -f jsonl parse, and carry the record's raw bytes, input and
    decoded fields; --count agrees with a Counter; --limit stops;
  - GET /api/v1/events paged with a small limit returns the same records
    as the CLI, each once; a bad query is a 400 with its offset;
  - a flipped byte inside a block: hunt reports the damaged block, exits 1,
    and still returns only true matches from the rest;
  - the blocks' indexes: every query gives the same records with
    --no-index, and a word of one batch only skips the other blocks; a
    flipped byte in an index is named by archive verify.
"""

import collections
import csv
import io
import ipaddress
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Daemon, check, finish, free_port, user_add, wait_for  # noqa: E402

CONFIG = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: ssh
    type: syslog-tcp
    listen: 127.0.0.1:{port}
  - name: js
    type: json-tcp
    decoder: json
    listen: 127.0.0.1:%d
"""

USERS = ["root", "admin", "Administrator", "alice", "bob", "oracle", "test1", "test22"]
BATCH = 300
SIGMA_RULE = """title: e2e hunt
id: %s
status: test
logsource:
  product: linux
  service: sshd
detection:
  selection:
    User|startswith: '%s'
    SourceIp|cidr: %s
  condition: selection
level: low
"""


def ssh_line(i):
    """An sshd line and the fields it carries."""
    user = USERS[i % len(USERS)]
    if i % 5 == 0:
        ip = "2001:db8:%x::%x" % (i % 3, i % 200 + 1)
    else:
        ip = "%d.%d.%d.%d" % ((10, 172, 192)[i % 3], i % 7, i % 11, i % 250 + 1)
    port = 1000 + (i * 37) % 60000
    ok = i % 4 == 0
    raw = ("<38>Dec  6 10:%02d:%02d web%d sshd[%d]: %s password for %s from %s port %d ssh2"
           % (i // 60 % 60, i % 60, i % 3, 4000 + i, "Accepted" if ok else "Failed", user, ip,
              port))
    return raw, {"user.name": user, "source.ip": ip, "source.port": str(port),
                 "event.outcome": "success" if ok else "failure"}


def json_line(i):
    path = ["/index.html", "/cgi-bin/../../etc/passwd", "/login?user=admin", "/api/v1/items/%d" % i,
            "/WP-ADMIN/setup.php"][i % 5]
    dport = [80, 443, 8080, 8443, 22][i % 5] + (i % 3)
    obj = {"source.ip": "198.51.100.%d" % (i % 254 + 1), "destination.port": dport,
           "url.original": path, "seq": "j%d" % i}
    return json.dumps(obj, separators=(",", ":")), {
        "source.ip": obj["source.ip"], "destination.port": str(dport), "url.original": path}


def send(port, lines):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall("".join(l + "\n" for l in lines).encode())
    s.close()


def archive_records(d):
    r = subprocess.run([BIN, "archive", "cat", "-c", d.conf, "-f", "jsonl"], capture_output=True,
                       text=True)
    return [json.loads(l) for l in r.stdout.splitlines()] if r.returncode == 0 else []


def hunt(d, *args, dir=None):
    cmd = [BIN, "hunt", "-c", d.conf] + (["--dir", dir] if dir else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def iso_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(\.\d+)?Z$", s)
    base = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return base + (float(m.group(2)) if m.group(2) else 0.0)


def main():
    jport = free_port()
    d = Daemon(CONFIG % jport)
    d.start()
    truth = {}  # raw -> fields
    for b in range(3):
        ssh = [ssh_line(b * BATCH + i) for i in range(BATCH)]
        js = [json_line(b * BATCH + i) for i in range(BATCH // 3)]
        for raw, f in ssh + js:
            truth[raw] = f
        send(d.port, [r for r, _ in ssh])
        send(jport, [r for r, _ in js])
        want = (b + 1) * (BATCH + BATCH // 3)
        check(wait_for(lambda: len(archive_records(d)) >= want, timeout=30),
              "batch %d: the archive holds %d records" % (b, want))
        if b < 2:
            time.sleep(2.1)
    recs = archive_records(d)
    check(len(recs) == len(truth), "archive cat shows every line once (%d)" % len(recs))
    # Record numbers are positions in the archive: cat's order.
    rows = []
    for no, r in enumerate(recs):
        check(r["raw"] in truth, "archived record %d is a line sent" % no) if r["raw"] not in truth \
            else rows.append((no, parse_iso(r["time"]), r["input"], r["raw"], truth[r["raw"]]))

    token = user_add(d, "hunter", "viewer")

    def api(q, limit=None, cursor=None, extra=None):
        params = {"q": q}
        if limit:
            params["limit"] = str(limit)
        if cursor is not None:
            params["cursor"] = str(cursor)
        params.update(extra or {})
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/events?%s"
                                     % (d.http, urllib.parse.urlencode(params)))
        req.add_header("Authorization", "Bearer " + token)
        for _ in range(30):  # the API's per-client rate limit is not under test
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 429:
                    return e.code, json.loads(e.read() or b"{}")
            time.sleep(1)
        return 429, {}

    def api_all(q, extra=None, limit=50):
        got, cursor, pages = [], 0, 0
        while cursor is not None and pages < 1000:
            st, body = api(q, limit=limit, cursor=cursor, extra=extra)
            if st != 200:
                return None
            got += [e["record"] for e in body["events"]]
            cursor = body["next_cursor"]
            pages += 1
        return got

    # Brute force: fields as constructed, raw text as sent.
    def f(row, k):
        return row[4].get(k)

    def in_net(v, net):
        try:
            return v is not None and ipaddress.ip_address(v) in ipaddress.ip_network(net)
        except ValueError:
            return False

    t_batch = sorted({round(r[1]) for r in rows})
    split1 = int(min(r[1] for r in rows if r[1] > rows[0][1] + 1.5))  # start of batch 2 (s)
    split2 = int(min(r[1] for r in rows if r[1] > split1 + 1.5))      # start of batch 3
    cases = [
        ("password", lambda r: "password" in r[3].lower()),
        ('"failed password for admin"', lambda r: "failed password for admin" in r[3].lower()),
        ("ADMIN", lambda r: "admin" in r[3].lower()),
        ("user.name=admin", lambda r: (f(r, "user.name") or "").lower() == "admin"),
        ("user.name=adm*", lambda r: (f(r, "user.name") or "").lower().startswith("adm")),
        ("user.name=test?", lambda r: re.fullmatch(r"test.", (f(r, "user.name") or "").lower())),
        ("source.ip=10.0.0.0/8", lambda r: in_net(f(r, "source.ip"), "10.0.0.0/8")),
        ("source.ip=172.16.0.0/12 OR source.ip=2001:db8:1::/48",
         lambda r: in_net(f(r, "source.ip"), "172.16.0.0/12")
         or in_net(f(r, "source.ip"), "2001:db8:1::/48")),
        ("source.ip=2001:db8::/32 event.outcome=success",
         lambda r: in_net(f(r, "source.ip"), "2001:db8::/32")
         and f(r, "event.outcome") == "success"),
        ("event.outcome!=failure", lambda r: f(r, "event.outcome") != "failure"),
        ("source.port>20000", lambda r: f(r, "source.port") and int(f(r, "source.port")) > 20000),
        ("destination.port>=8080 destination.port<8443",
         lambda r: f(r, "destination.port") and 8080 <= int(f(r, "destination.port")) < 8443),
        ("url.original~/\\.\\.\\/|wp-admin/i",
         lambda r: re.search(r"\.\./|wp-admin", f(r, "url.original") or "", re.I)),
        ("_raw~/port [0-9]{5} ssh2$/", lambda r: re.search(r"port [0-9]{5} ssh2$", r[3])),
        ("(root OR alice) AND NOT (Accepted OR source.ip=192.168.0.0/16)",
         lambda r: ("root" in r[3].lower() or "alice" in r[3].lower())
         and not ("accepted" in r[3].lower() or in_net(f(r, "source.ip"), "192.168.0.0/16"))),
        ("NOT sshd", lambda r: "sshd" not in r[3].lower()),
        ("nosuchwordanywhere", lambda r: False),
    ]
    any_cli_set = {}
    for q, pred in cases:
        want = [r[0] for r in rows if pred(r)]
        res = hunt(d, "-f", "jsonl", q)
        got = [json.loads(l)["record"] for l in res.stdout.splitlines()] if res.returncode == 0 else None
        check(got == want, "hunt %r: %d records as the brute force (got %s)"
              % (q, len(want), "error: " + res.stderr.strip() if got is None else len(got)))
        any_cli_set[q] = want
    # The blocks' indexes change what is read, never what is found: every
    # query above gives the same records with --no-index, and a word of one
    # batch only (a process id, bounded by the brackets) skips the blocks
    # of the others.
    def blocks(res):
        m = re.search(r"blocks: (\d+) read, \d+ skipped by time, (\d+) skipped by index "
                      r"\(of (\d+) indexed\)", res.stderr)
        return tuple(map(int, m.groups())) if m else None

    for q, _ in cases + [("sshd[4010]:", None), ('"from 10.1.2.3 port"', None),
                         ("password 10.3.10.", None)]:
        a = hunt(d, "-f", "jsonl", q)
        b = hunt(d, "-f", "jsonl", "--no-index", q)
        check(a.returncode == b.returncode == 0 and a.stdout == b.stdout
              and blocks(b) and blocks(b)[1] == 0,
              "hunt %r: the same %d records with and without the index"
              % (q, len(a.stdout.splitlines())))
    want = [r[0] for r in rows if "sshd[4010]:" in r[3]]
    res = hunt(d, "-f", "jsonl", "sshd[4010]:")
    got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
    nb = blocks(res)
    check(got == want and len(want) == 1 and nb and nb[2] >= 2 and nb[1] >= 1
          and nb[0] + nb[1] == blocks(hunt(d, "--no-index", "sshd[4010]:"))[0],
          "hunt sshd[4010]: one record; the index skipped blocks unread "
          "(read, skipped, indexed: %s)" % (nb,))
    # Time range: batch 2 only, and from batch 2 on, by receive time.
    for args, lo, hi in ((["--from", str(split1), "--to", str(split2)], split1, split2),
                         (["--from", iso_time(split1)], split1, 1e18)):
        want = [r[0] for r in rows if lo <= r[1] < hi and "password" in r[3].lower()]
        res = hunt(d, "-f", "jsonl", *args, "password")
        got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
        check(res.returncode == 0 and got == want and 0 < len(want) < len(rows),
              "hunt %s: %d records received in the range (got %d)" % (args, len(want), len(got)))
    # JSON lines carry the record and its decoded fields.
    res = hunt(d, "-f", "jsonl", "seq")
    objs = [json.loads(l) for l in res.stdout.splitlines()]
    byno = {r[0]: r for r in rows}
    check(len(objs) == BATCH and all(o["input"] == "js" and o["raw"] == byno[o["record"]][3]
                                     and o["fields"].get("url.original")
                                     == byno[o["record"]][4]["url.original"]
                                     and o["decoder"] for o in objs),
          "jsonl: input, raw and decoded fields of each JSON record")
    # CSV: a header, then the same records with their raw bytes.
    res = hunt(d, "-f", "csv", "user.name=root")
    table = list(csv.reader(io.StringIO(res.stdout)))
    want = [r for r in rows if f(r, "user.name") == "root"]
    check(table and table[0] == ["record", "received", "time", "input", "peer", "decoder", "raw"]
          and [(int(t[0]), t[3], t[6]) for t in table[1:]] == [(r[0], "ssh", r[3]) for r in want],
          "csv: header and the %d rows with input and raw" % len(want))
    res = hunt(d, "user.name=root")
    check(res.returncode == 0 and len(res.stdout.splitlines()) == len(want) + 1,
          "table: a header and one line per match")
    # --count against a Counter (most frequent first, ties by value).
    res = hunt(d, "-f", "jsonl", "--count", "user.name", "--top", "100", "event.outcome=failure")
    cnt = collections.Counter(f(r, "user.name") for r in rows if f(r, "event.outcome") == "failure")
    want = sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))
    got = [(o["value"], o["count"]) for o in map(json.loads, res.stdout.splitlines())]
    check(got == want, "--count user.name: %s" % want[:3])
    res = hunt(d, "-f", "csv", "--count", "source.ip", "--top", "3", "sshd")
    cnt = collections.Counter(f(r, "source.ip") for r in rows if "sshd" in r[3])
    want = sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    got = [(t[0], int(t[1])) for t in list(csv.reader(io.StringIO(res.stdout)))[1:]]
    check(got == want, "--count source.ip --top 3 (csv)")
    # --sigma: a rule file run over the archive with the daemon's log-source
    # routing and field map (User -> user.name, SourceIp -> source.ip).
    rule = os.path.join(d.dir, "hunt-rule.yml")
    with open(rule, "w") as fh:
        fh.write(SIGMA_RULE % ("6f1d2c3e-1111-4222-8333-944455556666", "adm", "10.0.0.0/8"))
    res = hunt(d, "-f", "jsonl", "--sigma", rule)
    got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
    want = [r[0] for r in rows if r[2] == "ssh" and (f(r, "user.name") or "").lower().startswith("adm")
            and in_net(f(r, "source.ip"), "10.0.0.0/8")]
    check(res.returncode == 0 and got == want and want,
          "hunt --sigma (User|startswith, SourceIp|cidr): %d records as the brute force (got %d) %s"
          % (len(want), len(got), res.stderr.strip()[-200:]))
    res = hunt(d, "-f", "jsonl", "--sigma", rule, "source.port<20000")
    want2 = [n for n in want if int(byno[n][4]["source.port"]) < 20000]
    got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
    check(got == want2 and 0 < len(want2) < len(want), "hunt --sigma with a query: both must match")
    # The JSON input's records hold 198.51.100.x sources but are not sshd's:
    # routing keeps the rule off them.
    with open(rule, "w") as fh:
        fh.write(SIGMA_RULE % ("6f1d2c3e-1111-4222-8333-944455556667", "", "198.51.100.0/24"))
    res = hunt(d, "-f", "jsonl", "--sigma", rule)
    check(res.returncode == 0 and res.stdout == "",
          "hunt --sigma: a linux/sshd rule does not match the JSON input's records")
    with open(rule, "w") as fh:
        fh.write("title: broken\ndetection: [\n")
    res = hunt(d, "--sigma", rule)
    check(res.returncode == 2 and rule in res.stderr, "hunt --sigma refuses a broken rule file, "
          "naming it: %s" % res.stderr.strip()[:120])
    res = hunt(d, "-f", "jsonl", "--limit", "5", "password")
    check(len(res.stdout.splitlines()) == 5, "--limit 5 stops at 5")
    # Refusals with their offset; exit 2.
    for q in ('"unterminated', "(a", "x~/(/", "(" * 40 + "a" + ")" * 40, "source.port>abc"):
        res = hunt(d, q)
        check(res.returncode == 2 and "at byte" in res.stderr, "hunt refuses %r: %s"
              % (q[:20], res.stderr.strip()[:80]))
    # The API pages through the same set, while the daemon runs.
    for q in ("password", "source.ip=10.0.0.0/8", "url.original~/\\.\\.\\/|wp-admin/i",
              "(root OR alice) AND NOT (Accepted OR source.ip=192.168.0.0/16)"):
        limit = 7 if q.startswith("url") else 50
        got = api_all(q, limit=limit)
        check(got == any_cli_set[q], "GET /api/v1/events %r paged by %d: %d records, as hunt"
              % (q, limit, len(any_cli_set[q])))
    got = api_all("password", extra={"from": str(split1), "to": str(split2)})
    want = [r[0] for r in rows if split1 <= r[1] < split2 and "password" in r[3].lower()]
    check(got == want, "GET /api/v1/events with from and to: %d records" % len(want))
    st, body = api("(a")
    check(st == 400 and body.get("offset") == 0 and body.get("field") == "q",
          "GET /api/v1/events refuses a bad query with its offset: %s" % body)
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/events?q=x" % d.http)
    for _ in range(30):
        try:
            urllib.request.urlopen(req, timeout=10)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        if code != 429:
            break
        time.sleep(1)
    check(code == 401, "GET /api/v1/events without a token: 401 (got %d)" % code)
    check(d.stop() == 0, "daemon stops cleanly")

    # A flipped byte in a block of a copy: reported, skipped, never a crash.
    src = os.path.join(d.data, "archive")
    bad = os.path.join(d.dir, "bad-archive")
    shutil.copytree(src, bad)
    # The block damaged is the first that holds a match: how many records a
    # block holds depends on the daemon's pace (a slow machine flushes
    # smaller blocks), so the test reads the frame headers (docs/archive.md)
    # rather than assume the first block has one.
    seg = sorted(os.listdir(bad))[0]
    want = any_cli_set["password"]
    with open(os.path.join(bad, seg), "r+b") as fh:
        data = fh.read()
        off, lost = 112, None
        while off + 128 <= len(data) and data[off:off + 4] == b"HKFR":
            ftype = data[off + 4]
            plen, _raw, nrec, ilen = struct.unpack_from("<IIII", data, off + 8)
            first = struct.unpack_from("<Q", data, off + 32)[0]
            if ftype == 1 and any(first <= r < first + nrec for r in want):
                lost = range(first, first + nrec)
                pos = off + 128 + (plen - ilen) // 2  # inside its compressed records
                fh.seek(pos)
                fh.write(bytes([data[pos] ^ 0xFF]))
                break
            off += 128 + plen
    check(lost is not None, "a block of %s holds a match for 'password'" % seg)
    lost = lost or range(0)
    res = hunt(d, "-f", "jsonl", "--no-index", "password", dir=bad)
    got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
    check(res.returncode == 1 and "damaged" in res.stderr and set(got) <= set(want)
          and not any(r in lost for r in got)
          and re.search(r"the first: hash mismatch at %s frame \d+ offset \d+" % seg, res.stderr)
          and len(got) < len(want),
          "a damaged block: exit 1, said on stderr, the other blocks' matches only "
          "(%d of %d, block of records %d-%d damaged): %s"
          % (len(got), len(want), lost.start, lost.stop - 1, res.stderr.strip().splitlines()[-1:]))
    # A flipped byte in a block's index (the last bytes of its payload, the
    # header's word 20 says how many): archive verify names the frame, and a
    # hunt still returns only true matches.
    bad2 = os.path.join(d.dir, "bad-index")
    shutil.copytree(src, bad2)
    with open(os.path.join(bad2, seg), "r+b") as fh:
        data = fh.read()
        hdr = data.find(b"HKFR", 112)
        payload_len, index_len = (struct.unpack_from("<I", data, hdr + 8)[0],
                                  struct.unpack_from("<I", data, hdr + 20)[0])
        pos = hdr + 128 + payload_len - index_len // 2
        fh.seek(pos)
        fh.write(bytes([data[pos] ^ 0x04]))
    r = subprocess.run([BIN, "archive", "verify", "-c", d.conf, "--dir", bad2,
                        "--form-only"], capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    check(index_len > 8 and r.returncode == 1 and "hash mismatch" in out and seg in out
          and ("offset %d" % hdr) in out,
          "a flipped byte in a block's index: archive verify names %s offset %d: %s"
          % (seg, hdr, out.strip().splitlines()[-1:]))
    res = hunt(d, "-f", "jsonl", "password", dir=bad2)
    got = [json.loads(l)["record"] for l in res.stdout.splitlines()]
    check(set(got) <= set(any_cli_set["password"]),
          "hunt over a damaged index: only true matches (%d)" % len(got))
    if finish() == 0:
        shutil.rmtree(d.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
