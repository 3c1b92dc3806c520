#!/usr/bin/env python3
"""Checks hikeshi-gen output against its ground truth.

usage: check-truth.py LOG TRUTH

1. Every line must be a valid line of its kind (sshd, sudo, CRON, systemd,
   systemd-logind, netfilter, nginx combined), in either --format file or
   --format syslog, and the lines must be in time order.
2. Every attack in TRUTH is found again in LOG from its entity alone, with
   rules an analyst would use (the attacker's address in sshd lines plus the
   lines of the same sshd process; SRC= in netfilter lines; the client
   address of access lines; the user's sudo lines on that host), and its
   first_line, last_line, records, first and last must match.
3. No line belongs to two attacks, and the summary line's totals add up.

Exits 0 when everything holds, 1 with one message per problem otherwise.
"""
import ipaddress
import json
import re
import sys
from datetime import datetime, timezone

MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

IP = r"(?:\d{1,3}\.){3}\d{1,3}"
PORT = r"\d{1,5}"
USER = r"[a-z_][a-z0-9_.-]*"

HEADER = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<mon>[A-Z][a-z]{2}) (?P<day>[ 123]\d) "
    r"(?P<hms>\d\d:\d\d:\d\d) (?P<host>[a-z0-9-]+) (?P<prog>[A-Za-z-]+)"
    r"(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)\Z")

COMBINED = re.compile(
    r"(?P<client>" + IP + r") - - \[(?P<clf>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d) \+0000\] "
    r'"(?P<method>GET|HEAD|POST|PUT|DELETE|OPTIONS) (?P<target>/[!-~]*) HTTP/(?:1\.0|1\.1|2\.0)" '
    r'(?P<status>[1-5]\d\d) (?P<size>\d+) "(?P<ref>[^"\s]*)" "(?P<ua>[^"]+)"\Z')

S = {
    "sshd": [
        r"Accepted publickey for " + USER + r" from " + IP + r" port " + PORT +
        r" ssh2: (?:RSA|ED25519) SHA256:[A-Za-z0-9+/]{43}",
        r"Accepted password for " + USER + r" from " + IP + r" port " + PORT + r" ssh2",
        r"pam_unix\(sshd:session\): session opened for user " + USER + r"\(uid=\d+\) by \(uid=0\)",
        r"Received disconnect from " + IP + r" port " + PORT + r":11: disconnected by user",
        r"Disconnected from user " + USER + " " + IP + r" port " + PORT,
        r"pam_unix\(sshd:session\): session closed for user " + USER,
        r"pam_unix\(sshd:auth\): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
        r"rhost=" + IP + r"(?:  user=" + USER + r")?",
        r"pam_unix\(sshd:auth\): check pass; user unknown",
        r"Invalid user " + USER + r" from " + IP + r" port " + PORT,
        r"Failed password for (?:invalid user )?" + USER + r" from " + IP + r" port " + PORT +
        r" ssh2",
        r"Connection closed by (?:invalid|authenticating) user " + USER + " " + IP + r" port " +
        PORT + r" \[preauth\]",
        r"PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=" + IP +
        r"(?:  user=" + USER + r")?",
        r"PAM [2-9] more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=" +
        IP + r"(?:  user=" + USER + r")?",
    ],
    "systemd-logind": [
        r"New session \d+ of user " + USER + r"\.",
        r"Session \d+ logged out\. Waiting for processes to exit\.",
        r"Removed session \d+\.",
    ],
    "systemd": [
        r"Started session-(\d+)\.scope - Session \1 of User " + USER + r"\.",
        r"Starting [a-z0-9_-]+\.service - [A-Za-z0-9 /.-]+\.\.\.",
        r"Finished [a-z0-9_-]+\.service - [A-Za-z0-9 /.-]+\.",
        r"[a-z0-9_-]+\.service: Deactivated successfully\.",
        r"[a-z0-9_-]+\.service: Consumed (?:[1-9]\d*\.\d{3}s|[1-9]\d{0,2}ms) CPU time\.",
    ],
    "CRON": [
        r"pam_unix\(cron:session\): session opened for user " + USER + r"\(uid=\d+\) by \(uid=0\)",
        r"\(" + USER + r"\) CMD \(.+\)",
        r"pam_unix\(cron:session\): session closed for user " + USER,
    ],
    "sudo": [
        r" *(?P<u>" + USER + r") : (?:\d+ incorrect password attempts ; |user NOT in sudoers ; )?"
        r"TTY=pts/\d+ ; PWD=/[!-~]* ; USER=root ; COMMAND=/[ -~]+",
        r"pam_unix\(sudo:session\): session opened for user root\(uid=0\) by " + USER +
        r"\(uid=\d+\)",
        r"pam_unix\(sudo:session\): session closed for user root",
        r"pam_unix\(sudo:auth\): authentication failure; logname=(" + USER + r") uid=\d+ euid=0 "
        r"tty=/dev/pts/\d+ ruser=\1 rhost=  user=\1",
    ],
    "kernel": [
        r"\[ *\d+\.\d{6}\] \[UFW (?:BLOCK|ALLOW)\] IN=eth\d OUT=(?:eth\d)? "
        r"MAC=(?:[0-9a-f]{2}:){13}[0-9a-f]{2} SRC=(?P<src>" + IP + r") DST=(?P<dst>" + IP +
        r") LEN=\d+ TOS=0x00 PREC=0x00 TTL=\d+ ID=\d+(?: DF)? PROTO=(?:"
        r"TCP SPT=" + PORT + r" DPT=" + PORT + r" WINDOW=\d+ RES=0x00 SYN URGP=0|"
        r"UDP SPT=" + PORT + r" DPT=" + PORT + r" LEN=\d+|"
        r"ICMP TYPE=8 CODE=0 ID=\d+ SEQ=\d+)",
    ],
    # --ids-noise: one EVE alert relayed through syslog
    "suricata": [
        r'\{"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000","flow_id":\d+,'
        r'"in_iface":"eth1","event_type":"alert","src_ip":"' + IP + r'","src_port":' + PORT +
        r',"dest_ip":"' + IP + r'","dest_port":' + PORT + r',"proto":"(?:TCP|UDP)",'
        r'"alert":\{"action":"allowed","gid":1,"signature_id":\d+,"rev":\d+,'
        r'"signature":"[ -!#-~]+","category":"[ -!#-~]+","severity":[1-3]\}\}',
    ],
}
S = {k: [re.compile(p + r"\Z") for p in v] for k, v in S.items()}
# facility*8+severity for each program, as the generator documents them.
PRI_OK = {"sshd": {38, 85, 86}, "systemd-logind": {38}, "systemd": {30}, "CRON": {78, 86},
          "sudo": {81, 85, 86}, "kernel": {4}, "nginx": {190}, "suricata": {170, 171, 172}}
IP_RE = re.compile(r"(?<![\d.])" + IP + r"(?![\d.])")
NUM_RE = re.compile(r"(?:SPT|DPT|port)[= ](\d+)")


class Problems:
    def __init__(self):
        self.n = 0

    def add(self, msg):
        self.n += 1
        if self.n <= 50:
            print(msg, file=sys.stderr)


def parse_line(line, year, month):
    """Returns a dict describing the line, or None if it is not valid.

    RFC 3164 has no year: a month before the start month is in the next year
    (the generator's span is at most a year past the start)."""
    m = HEADER.match(line)
    d = {}
    if m:
        prog = m["prog"]
        d.update(host=m["host"], prog=prog, pid=m["pid"], msg=m["msg"], pri=m["pri"])
        if m["mon"] not in MONTHS:
            return None
        mon = MONTHS[m["mon"]]
        d["t"] = datetime(year + (mon < month), mon, int(m["day"]),
                          *map(int, m["hms"].split(":")), tzinfo=timezone.utc).timestamp()
        if prog == "nginx":
            if m["pid"]:
                return None
            line = m["msg"]
        else:
            if prog not in S:
                return None
            # which programs carry a [pid]
            if (prog in ("sudo", "kernel")) != (m["pid"] is None):
                return None
            pm = None
            for rx in S[prog]:
                pm = rx.match(m["msg"])
                if pm:
                    break
            if not pm:
                return None
            if prog == "kernel":
                d["src"], d["dst"] = pm["src"], pm["dst"]
            if prog == "sudo" and pm.re is S["sudo"][0]:
                u = pm["u"]
                # "%8s : " — the name is right-aligned in 8 columns.
                if len(u) < 8 and not m["msg"].startswith(" " * (8 - len(u)) + u + " : "):
                    return None
            d["ips"] = IP_RE.findall(m["msg"])
            for ip in d["ips"]:
                ipaddress.ip_address(ip)  # raises on 256 and friends
            for p in NUM_RE.findall(m["msg"]):
                if int(p) > 65535:
                    return None
            return d
    a = COMBINED.match(line)
    if not a:
        return None
    ipaddress.ip_address(a["client"])
    t = datetime.strptime(a["clf"], "%d/%b/%Y:%H:%M:%S").replace(tzinfo=timezone.utc)
    if m and t.timestamp() != d["t"]:
        return None  # the relay header and the access time disagree
    d.update(prog="nginx", client=a["client"], t=t.timestamp(), msg=line, ua=a["ua"],
             target=a["target"], status=int(a["status"]))
    d.setdefault("host", None)
    return d


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    log_path, truth_path = sys.argv[1], sys.argv[2]
    pr = Problems()
    attacks, summary = [], None
    with open(truth_path) as f:
        for ln, raw in enumerate(f, 1):
            o = json.loads(raw)
            if o.get("summary"):
                summary = o
            else:
                attacks.append(o)
    if summary is None:
        pr.add("truth: no summary line")
        return 1
    year, month = int(summary["start"][:4]), int(summary["start"][5:7])
    syslog = summary["format"] == "syslog"

    # Entity indexes.  Entities must be unique per type family, else the
    # check could not tell attacks apart.
    ssh_ip, nf_src, web_ip, sudo_uh = {}, {}, {}, {}
    for a in attacks:
        e, ty = a["entity"], a["type"]
        if ty.startswith("ssh_"):
            idx, key = ssh_ip, e["source.ip"]
        elif ty in ("port_scan_vertical", "port_scan_horizontal", "worm"):
            idx, key = nf_src, e["source.ip"]
        elif ty == "beacon":
            idx, key = nf_src, e["source.ip"]
        elif ty.startswith("web_"):
            idx, key = web_ip, e["source.ip"]
        elif ty == "sudo_abuse":
            idx, key = sudo_uh, (e["user.name"], e["host.name"])
        else:
            pr.add(f"truth {a['id']}: unknown type {ty}")
            continue
        if key in idx:
            pr.add(f"truth {a['id']}: entity {key} also used by {idx[key]['id']}")
        idx[key] = a
        a["_lines"] = []

    # Pass 1: validity, order, and the sshd processes of each attack.
    ssh_pid = {}
    lines = 0
    last_t = None
    uptime = {}
    with open(log_path, encoding="utf-8", errors="strict") as f:
        for n, line in enumerate(f, 1):
            lines = n
            line = line.rstrip("\n")
            if syslog != line.startswith("<"):
                pr.add(f"line {n}: format is {summary['format']} but the line is not: {line[:80]}")
                continue
            try:
                d = parse_line(line, year, month)
            except ValueError:
                d = None
            if d is None:
                pr.add(f"line {n}: not a valid line: {line[:160]}")
                continue
            if syslog:
                pri = int(d["pri"]) if d.get("pri") else -1
                if pri not in PRI_OK[d["prog"]]:
                    pr.add(f"line {n}: PRI {pri} unexpected for {d['prog']}")
            if last_t is not None and d["t"] < last_t:
                pr.add(f"line {n}: time goes backwards")
            last_t = d["t"]
            if d["prog"] == "kernel":
                up = float(d["msg"][1:d["msg"].index("]")])
                if d["host"] in uptime and up < uptime[d["host"]]:
                    pr.add(f"line {n}: kernel uptime goes backwards on {d['host']}")
                uptime[d["host"]] = up
            if d["prog"] == "sshd":
                for ip in d["ips"]:
                    if ip in ssh_ip:
                        ssh_pid[(d["host"], d["pid"])] = ssh_ip[ip]
            d["n"] = n
            # Pass 2 happens inline for everything but sshd, which needs pids.
            claim(d, nf_src, web_ip, sudo_uh, pr)

    # Pass 2 for sshd.
    with open(log_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if "sshd[" not in line:
                continue
            d = parse_line(line.rstrip("\n"), year, month)
            if d is None or d["prog"] != "sshd":
                continue
            owners = {id(a): a for ip in d["ips"] if ip in ssh_ip for a in [ssh_ip[ip]]}
            a = ssh_pid.get((d["host"], d["pid"]))
            if a is not None:
                owners[id(a)] = a
            if len(owners) > 1:
                pr.add(f"line {n}: claimed by several attacks")
            for a in owners.values():
                if a["entity"].get("host.name") not in (None, d["host"]):
                    pr.add(f"line {n}: {a['id']} on host {d['host']}, truth says "
                           f"{a['entity']['host.name']}")
                a["_lines"].append((n, d["t"]))

    # Compare.
    for a in attacks:
        got = a.get("_lines", [])
        if not got:
            pr.add(f"{a['id']} ({a['type']}): no line found for entity {a['entity']}")
            continue
        iso = lambda t: datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        want = (a["first_line"], a["last_line"], a["records"], a["first"], a["last"])
        have = (got[0][0], got[-1][0], len(got), iso(got[0][1]), iso(got[-1][1]))
        if want != have:
            pr.add(f"{a['id']} ({a['type']}): truth (first_line, last_line, records, first, last)"
                   f" = {want}, log has {have}")
    by_type, recs_by_type = {}, {}
    for a in attacks:
        by_type[a["type"]] = by_type.get(a["type"], 0) + 1
        recs_by_type[a["type"]] = recs_by_type.get(a["type"], 0) + a["records"]
    if summary["records"] != lines:
        pr.add(f"summary: records {summary['records']}, log has {lines} lines")
    if summary["attacks"] != len(attacks):
        pr.add(f"summary: attacks {summary['attacks']}, truth has {len(attacks)}")
    if {k: v for k, v in summary["by_type"].items() if v} != by_type:
        pr.add(f"summary: by_type {summary['by_type']} != {by_type}")
    if {k: v for k, v in summary["records_by_type"].items() if v} != recs_by_type:
        pr.add(f"summary: records_by_type {summary['records_by_type']} != {recs_by_type}")
    if summary["attack_records"] != sum(recs_by_type.values()):
        pr.add("summary: attack_records is not the sum of the attacks' records")
    for a in attacks:
        if a["type"] == "worm" and "parent" in a:
            if not any(p["id"] == a["parent"] for p in attacks):
                pr.add(f"{a['id']}: parent {a['parent']} is not in the truth")

    if pr.n:
        print(f"check-truth: {pr.n} problem(s)", file=sys.stderr)
        return 1
    print(f"check-truth: {lines} lines valid, {len(attacks)} attacks match the truth")
    return 0


def claim(d, nf_src, web_ip, sudo_uh, pr):
    """Attributes a non-sshd line to the attack whose entity it carries."""
    a = None
    if d["prog"] == "kernel":
        a = nf_src.get(d["src"])
        if a is not None and a["type"] == "beacon":
            if d["dst"] != a["entity"]["destination.ip"]:
                pr.add(f"line {d['n']}: beacon source {d['src']} to another destination")
                a = None
        elif a is not None and a["type"] == "port_scan_vertical":
            if d["dst"] != a["entity"]["destination.ip"]:
                pr.add(f"line {d['n']}: vertical scan {a['id']} hits another host")
        elif a is not None and a["type"] == "port_scan_horizontal":
            if f"DPT={a['entity']['destination.port']} " not in d["msg"]:
                pr.add(f"line {d['n']}: horizontal scan {a['id']} on another port")
    elif d["prog"] == "nginx":
        a = web_ip.get(d["client"])
        if a is not None and d["host"] not in (None, a["entity"].get("host.name")):
            pr.add(f"line {d['n']}: web attack {a['id']} on another host")
    elif d["prog"] == "sudo":
        for (user, host), cand in sudo_uh.items():
            if host == d["host"] and re.search(r"(?<![a-z0-9_.-])" + re.escape(user) +
                                               r"(?![a-z0-9_.-])", d["msg"]):
                a = cand
    if a is not None:
        a["_lines"].append((d["n"], d["t"]))


if __name__ == "__main__":
    sys.exit(main())
