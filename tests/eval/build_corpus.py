#!/usr/bin/env python3
"""Builds the second evaluation corpus (tests/eval/README.md): streams of
logs this project did not generate, with a ground truth that
bench/score-incidents.py reads.

The real logs are read from the shared data directory at build time and
written into OUT, never into the source tree.  The hand-written attack
lines (tests/eval/attacks/*.log, *.json) and their truth
(tests/eval/attacks/truth.jsonl), and the reviewed labels of the loghub SSH
logs (tests/eval/truth/loghub.jsonl), are in the tree.  The only generated
lines are the benign background of the two site streams (staff logins,
cron, sudo, web browsing, blocked internet noise, IDS policy alerts), from
a fixed seed: the output is the same bytes on every run and every machine.

Each stream's modification time is set to a few minutes after its last
line, as a log file's would be: RFC 3164 headers carry no year, and
`hikeshi scan` infers it from that time.

usage: build_corpus.py [--shared DIR] OUT
  DIR defaults to $HIKESHI_SHARED, else ../shared next to the source tree.
Writes OUT/<stream> for every stream, OUT/streams.txt (the streams in the
order to scan them) and OUT/truth.jsonl.  Exit 0, or 1 with a message when
an input is missing or differs from the one the labels were made on.
"""
import base64
import datetime
import gzip
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc
SEED = 14

UA_BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Mobile Safari/537.36",
]
UA_BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]
PAGES = ["/", "/products", "/products?id=%d", "/cart", "/checkout", "/about", "/contact",
         "/search?q=%s", "/api/v1/stock?sku=%d", "/blog/%d", "/login"]
SEARCH = ["shoes", "red+dress", "o%27neill+jacket", "kids%27+boots", "rock+%27n%27+roll+tee",
          "50%25+off", "drop+shoulder+top", "union+jack+scarf", "select+fit+jeans"]
ASSETS = ["/static/app.css", "/static/app.js", "/static/logo.svg", "/favicon.ico"]
# Policy and informational IDS signatures a site sees all day (names of
# our own, in the style of a public rule set; none is an attack).
IDS_POLICY = [
    (9000101, "POLICY Package manager user agent outbound", "Not Suspicious Traffic", 3, 80),
    (9000102, "INFO DNS query for a .cloud domain", "Potentially Bad Traffic", 3, 53),
    (9000103, "POLICY File sharing service in use", "Potential Corporate Privacy Violation", 3, 443),
    (9000104, "INFO External IP address lookup", "Device Retrieving External IP Address Detected",
     3, 443),
    (9000105, "POLICY Cleartext HTTP basic authentication", "Potential Corporate Privacy Violation",
     2, 8080),
]


# Signature families of the public rule set that note policy or list
# membership rather than an attack (tests/eval/README.md).
NOISE_SIGNATURES = ("ET POLICY", "ET INFO", "ET CINS", "ET TOR", "ET DROP", "ET COMPROMISED")


def hdr(t, host, prog, pri=None):
    """An RFC 3164 header: no year, day padded to two columns."""
    h = "%s %2d %s %s %s: " % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"), host, prog)
    return ("<%d>" % pri if pri is not None else "") + h


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header_time(line, year_of):
    """Time of an RFC 3164 line of our own streams (year from year_of(month))."""
    if line.startswith("<"):
        line = line[line.index(">") + 1:]
    t = datetime.datetime.strptime(line[:15], "%b %d %H:%M:%S")
    return t.replace(year=year_of(t.month), tzinfo=UTC)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def set_mtime(path, t):
    s = t.timestamp()
    os.utime(path, (s, s))


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


class Background:
    """Benign lines of a small site: the kinds an attack hides among."""

    def __init__(self, rnd, start, end):
        self.r = rnd
        self.start, self.end = start, end
        self.pid = 20000 + rnd.randrange(10000)
        self.lines = []  # (time, order, line)

    def _t(self, lo=None, hi=None):
        lo = lo or self.start
        hi = hi or self.end
        return lo + datetime.timedelta(seconds=self.r.randrange(int((hi - lo).total_seconds())))

    def add(self, t, line):
        self.lines.append((t, len(self.lines), line))

    def next_pid(self):
        self.pid += 1 + self.r.randrange(50)
        return self.pid

    def staff_ssh(self, n, hosts):
        users = [("ops", 1000), ("mkoval", 1003), ("jlee", 1004), ("asato", 1005)]
        for _ in range(n):
            t = self._t()
            host = self.r.choice(hosts)
            user, uid = self.r.choice(users)
            ip = "10.1.20.%d" % (10 + self.r.randrange(40))
            port = 50000 + self.r.randrange(15000)
            pid = self.next_pid()
            p = "sshd[%d]" % pid
            key = base64.b64encode(bytes(self.r.randrange(256) for _ in range(32))).decode()[:43]
            if self.r.random() < 0.08:
                # a single typo from a known workstation, then success
                self.add(t, hdr(t, host, p) + "Failed password for %s from %s port %d ssh2"
                         % (user, ip, port))
                t += datetime.timedelta(seconds=4)
                self.add(t, hdr(t, host, p) + "Accepted password for %s from %s port %d ssh2"
                         % (user, ip, port))
            else:
                self.add(t, hdr(t, host, p) + "Accepted publickey for %s from %s port %d ssh2: "
                         "ED25519 SHA256:%s" % (user, ip, port, key))
            self.add(t, hdr(t, host, p) + "pam_unix(sshd:session): session opened for user "
                     "%s(uid=%d) by (uid=0)" % (user, uid))
            sess = 100 + self.r.randrange(9000)
            self.add(t, hdr(t, host, "systemd-logind[655]") + "New session %d of user %s."
                     % (sess, user))
            t2 = t + datetime.timedelta(seconds=60 + self.r.randrange(3600))
            if t2 < self.end:
                self.add(t2, hdr(t2, host, p) + "Received disconnect from %s port %d:11: "
                         "disconnected by user" % (ip, port))
                self.add(t2, hdr(t2, host, p) + "pam_unix(sshd:session): session closed for "
                         "user %s" % user)
                self.add(t2, hdr(t2, host, "systemd-logind[655]") + "Removed session %d." % sess)

    def cron(self, hosts):
        t = self.start.replace(minute=0, second=0)
        while t < self.end:
            if t >= self.start:
                for host in hosts:
                    if t.minute == 17:
                        p = "CRON[%d]" % self.next_pid()
                        self.add(t, hdr(t, host, p) + "pam_unix(cron:session): session opened "
                                 "for user root(uid=0) by (uid=0)")
                        self.add(t, hdr(t, host, p) + "(root) CMD (cd / && run-parts --report "
                                 "/etc/cron.hourly)")
                        self.add(t, hdr(t, host, p) + "pam_unix(cron:session): session closed "
                                 "for user root")
                if t.minute % 10 == 0:
                    p = "CRON[%d]" % self.next_pid()
                    self.add(t, hdr(t, "web1", p) + "(www-data) CMD (php /var/www/shop/cron.php "
                             ">/dev/null 2>&1)")
            t += datetime.timedelta(minutes=1)

    def sudo(self, n, hosts):
        cmds = ["/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update",
                "/usr/bin/journalctl -u nginx", "/usr/bin/tail -n 100 /var/log/nginx/error.log"]
        for _ in range(n):
            t = self._t()
            host = self.r.choice(hosts)
            user, uid = self.r.choice([("ops", 1000), ("jlee", 1004)])
            if self.r.random() < 0.15:
                # one mistyped password, then the right one
                self.add(t, hdr(t, host, "sudo") + "pam_unix(sudo:auth): authentication failure; "
                         "logname=%s uid=%d euid=0 tty=/dev/pts/0 ruser=%s rhost=  user=%s"
                         % (user, uid, user, user))
                t += datetime.timedelta(seconds=5)
            self.add(t, hdr(t, host, "sudo") + "%8s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; "
                     "COMMAND=%s" % (user, user, self.r.choice(cmds)))
            self.add(t, hdr(t, host, "sudo") + "pam_unix(sudo:session): session opened for user "
                     "root(uid=0) by %s(uid=%d)" % (user, uid))
            t += datetime.timedelta(seconds=2)
            self.add(t, hdr(t, host, "sudo") + "pam_unix(sudo:session): session closed for user "
                     "root")

    def web(self, n, hosts):
        clients = ["%d.%d.%d.%d" % (self.r.choice([24, 71, 82, 88, 92, 109, 151, 176, 188, 212]),
                                    self.r.randrange(256), self.r.randrange(256),
                                    1 + self.r.randrange(254)) for _ in range(300)]
        for _ in range(n):
            t = self._t()
            host = self.r.choice(hosts)
            ip = self.r.choice(clients)
            bot = self.r.random() < 0.1
            ua = self.r.choice(UA_BOTS if bot else UA_BROWSERS)
            page = self.r.choice(PAGES)
            if "%d" in page:
                page = page % (1 + self.r.randrange(500))
            elif "%s" in page:
                page = page % self.r.choice(SEARCH)
            status = self.r.choice([200] * 12 + [301, 304, 404, 500])
            reqs = [page] + ([] if bot else self.r.sample(ASSETS, self.r.randrange(0, 3)))
            for k, path in enumerate(reqs):
                st = status if k == 0 else 200
                line = '%s - - [%s +0000] "GET %s HTTP/1.1" %d %d "%s" "%s"' % (
                    ip, t.strftime("%d/%b/%Y:%H:%M:%S"), path, st, 200 + self.r.randrange(30000),
                    "-" if k == 0 else "https://shop.example.org" + page, ua)
                self.add(t, hdr(t, host, "nginx") + line)

    def internet_noise(self, n, dsts):
        """Blocked background radiation: each source knocks on a port or two."""
        up = 1000000.0 + self.r.randrange(1000000)
        for _ in range(n):
            t = self._t()
            src = "%d.%d.%d.%d" % (self.r.choice([5, 45, 61, 89, 103, 111, 162, 185, 193, 222]),
                                   self.r.randrange(256), self.r.randrange(256),
                                   1 + self.r.randrange(254))
            for _k in range(1 + self.r.randrange(2)):
                port = self.r.choice([22, 23, 80, 443, 445, 3389, 5060, 8080, 8443, 6379])
                up += 1 + self.r.randrange(300)
                self.add(t, hdr(t, "gw1", "kernel") + "[%.6f] [UFW BLOCK] IN=eth0 OUT= "
                         "MAC=52:54:00:12:34:56:00:1c:7f:aa:bb:cc:08:00 SRC=%s DST=%s LEN=60 "
                         "TOS=0x00 PREC=0x00 TTL=%d ID=%d DF PROTO=TCP SPT=%d DPT=%d WINDOW=64240 "
                         "RES=0x00 SYN URGP=0" % (up, src, self.r.choice(dsts), 40 + self.r.randrange(80),
                                                   self.r.randrange(65536), 1024 + self.r.randrange(60000),
                                                   port))

    def ids_policy(self, n, internal_prefix, nsrc):
        """EVE alerts relayed through syslog by the IDS host: many sources,
        a few policy signatures."""
        srcs = ["%s.%d" % (internal_prefix, 10 + i) for i in range(nsrc)]
        dsts = ["%d.%d.%d.%d" % (self.r.choice([13, 34, 104, 142, 151, 162]), self.r.randrange(256),
                                 self.r.randrange(256), 1 + self.r.randrange(254)) for _ in range(40)]
        for _ in range(n):
            t = self._t()
            sid, sig, cat, sev, port = self.r.choice(IDS_POLICY)
            ev = {"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d+0000" % self.r.randrange(10**6),
                  "flow_id": self.r.randrange(10**15), "in_iface": "eth1", "event_type": "alert",
                  "src_ip": self.r.choice(srcs), "src_port": 32768 + self.r.randrange(28000),
                  "dest_ip": self.r.choice(dsts), "dest_port": port,
                  "proto": "UDP" if port == 53 else "TCP",
                  "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 2,
                            "signature": sig, "category": cat, "severity": sev}}
            self.add(t, hdr(t, "ids1", "suricata[2211]", pri=21 * 8 + 1 + sev) +
                     json.dumps(ev, separators=(",", ":")))


def read_attack(name, year_of):
    out = []
    with open(os.path.join(HERE, "attacks", name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            out.append((header_time(line, year_of), line))
    return out


def site_stream(out, name, rnd, start, end, attacks, year_of, scale):
    bg = Background(rnd, start, end)
    bg.staff_ssh(int(30 * scale), ["app1", "web1", "web2", "bastion"])
    bg.cron(["app1", "web1", "web2", "bastion"])
    bg.sudo(int(12 * scale), ["app1", "web1"])
    bg.web(int(2500 * scale), ["web1", "web2"])
    bg.internet_noise(int(400 * scale), ["172.16.5.10", "172.16.5.11", "172.16.5.20"])
    bg.ids_policy(int(600 * scale), "172.16.10", 80)
    lines = list(bg.lines)
    for a in attacks:
        for t, line in read_attack(a, year_of):
            lines.append((t, len(lines), line))
    # A log host writes in arrival order: by time, ties in planning order.
    lines.sort(key=lambda x: (x[0], x[1]))
    path = os.path.join(out, name)
    write_lines(path, [x[2] for x in lines])
    set_mtime(path, lines[-1][0] + datetime.timedelta(minutes=5))
    return len(lines)


def eve_time(s):
    # "2018-03-24T14:37:19.037299-0600" or without a zone (then UTC)
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S.%f"):
        try:
            t = datetime.datetime.strptime(s, fmt)
            return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
        except ValueError:
            continue
    raise ValueError("EVE timestamp " + s)


def suricata_stream(out, shared, sample, truth):
    """One alert per line through an RFC 3164 header, as rsyslog relays
    eve.json; the header's time is the alert's time in UTC."""
    src = os.path.join(shared, "network/suricata-sample-data/samples", sample, "alerts-only.json")
    with open(src, encoding="utf-8") as f:
        alerts = json.load(f)
    rows = []
    for i, a in enumerate(alerts):
        t = eve_time(a["timestamp"])
        sev = int(a["alert"]["severity"])
        rows.append((t, i, hdr(t, "ids-" + sample, "suricata[%d]" % (3000 + len(sample)),
                                pri=21 * 8 + 1 + min(max(sev, 1), 6)) +
                     json.dumps(a, separators=(",", ":"))))
        if sev <= 2 and not a["alert"]["signature"].startswith(NOISE_SIGNATURES):
            # One sampled alert of a competition or a honeypot: real attack
            # traffic, but without the rest of the campaign nobody can say
            # whether it is an incident of its own.  Neither required nor
            # counted against precision.  Severity 3, policy and reputation
            # signatures are what an IDS reports all day: an incident on
            # one of them alone counts against precision.
            for k in ("src_ip", "dest_ip"):
                truth.append({"id": "S-%s-%d-%s" % (sample, i, k[:3]), "dont_care": True,
                              "stream": "suricata-%s.log" % sample,
                              "entity": {"ip": a[k]}, "first": iso(t), "last": iso(t),
                              "why": "sampled IDS alert severity %d: %s" % (sev, a["alert"]["signature"])})
    rows.sort(key=lambda x: (x[0], x[1]))
    path = os.path.join(out, "suricata-%s.log" % sample)
    write_lines(path, [x[2] for x in rows])
    set_mtime(path, rows[-1][0] + datetime.timedelta(minutes=5))
    return path


def zeek_stream(out, shared, log, extra=None):
    src = os.path.join(shared, "network/zed-sample-data/zeek-json", log + ".json.gz")
    with gzip.open(src, "rt", encoding="utf-8") as f:
        rows = [(json.loads(line)["ts"], i, line.rstrip("\n")) for i, line in enumerate(f)]
    if extra:
        with open(os.path.join(HERE, "attacks", extra), encoding="utf-8") as f:
            n = len(rows)
            rows += [(json.loads(line)["ts"], n + i, line.rstrip("\n")) for i, line in enumerate(f)]
    # Zeek writes in the order connections end, close to ts order; the
    # injected lines go where their time puts them.
    rows.sort(key=lambda x: (x[0], x[1]))
    path = os.path.join(out, "zeek-%s.json" % log)
    write_lines(path, [x[2] for x in rows])
    last = datetime.datetime.fromisoformat(rows[-1][0].replace("Z", "+00:00"))
    set_mtime(path, last + datetime.timedelta(minutes=5))
    return path


def copy_real(out, shared, rel, name, mtime, truth_sha):
    src = os.path.join(shared, rel)
    got = sha256(src)
    if truth_sha and got != truth_sha:
        raise SystemExit("build_corpus: %s differs from the file the labels were made on "
                         "(sha256 %s, labels made on %s)" % (src, got, truth_sha))
    with open(src, "rb") as f, open(os.path.join(out, name), "wb") as g:
        g.write(f.read())
    set_mtime(os.path.join(out, name), mtime)


def main():
    args = sys.argv[1:]
    shared = os.environ.get("HIKESHI_SHARED") or os.path.join(HERE, "..", "..", "..", "shared")
    if len(args) >= 2 and args[0] == "--shared":
        shared, args = args[1], args[2:]
    if len(args) != 1:
        print(__doc__.strip().split("\n\n")[-2], file=sys.stderr)
        return 2
    out = args[0]
    shared = os.path.join(shared, "data") if os.path.isdir(os.path.join(shared, "data")) else shared
    os.makedirs(out, exist_ok=True)
    truth = []
    with open(os.path.join(HERE, "truth", "loghub.jsonl"), encoding="utf-8") as f:
        loghub = [json.loads(line) for line in f if line.strip()]
    sha = {r["source"]: r["source_sha256"] for r in loghub}
    truth += loghub
    streams = []

    def d(s):
        return datetime.datetime.fromisoformat(s).replace(tzinfo=UTC)

    # Real syslog.  Linux_2k is from 2005 (its ftpd lines name the year);
    # OpenSSH_2k names none: the corpus dates it 2025, last year.
    copy_real(out, shared, "linux-logs/loghub/Linux/Linux_2k.log", "loghub-linux.log",
              d("2005-07-27T14:47:00"), sha.get("linux-logs/loghub/Linux/Linux_2k.log"))
    copy_real(out, shared, "linux-logs/loghub/OpenSSH/OpenSSH_2k.log", "loghub-openssh.log",
              d("2025-12-10T11:10:00"), sha.get("linux-logs/loghub/OpenSSH/OpenSSH_2k.log"))
    # Apache's error log (not an access log): mod_jk start-up chatter and
    # "Directory index forbidden" for 32 clients, one request each.  No
    # attack in it.
    copy_real(out, shared, "linux-logs/loghub/Apache/Apache_2k.log", "apache-error.log",
              d("2005-12-05T19:20:00"), None)
    streams += ["loghub-linux.log", "loghub-openssh.log", "apache-error.log"]

    # Real Zeek logs of the WRCCDC 2018 capture (20 minutes).  The DNS
    # tunnel of attacks/z1 goes into the real dns.log.
    zeek_stream(out, shared, "dns", "z1-dns-tunnel.json")
    zeek_stream(out, shared, "notice")
    zeek_stream(out, shared, "ssh")
    streams += ["zeek-dns.json", "zeek-notice.json", "zeek-ssh.json"]
    # In ssh.log, red-team reconnaissance: Nmap's SSH scripts against one
    # host, and SSH banners fetched from five hosts without a login.
    truth.append({"id": "Zdc1", "dont_care": True, "stream": "zeek-ssh.json",
                  "entity": {"ip": "10.128.0.19"}, "first": "2018-03-24T17:33:44Z",
                  "last": "2018-03-24T17:34:19Z", "why": "Nmap SSH scripts against one host"})
    truth.append({"id": "Zdc2", "dont_care": True, "stream": "zeek-ssh.json",
                  "entity": {"ip": "10.128.0.207"}, "first": "2018-03-24T17:27:47Z",
                  "last": "2018-03-24T17:27:59Z", "why": "SSH banners of five hosts, no login"})

    # Real Suricata alerts, one per signature, relayed through syslog.
    for sample in ("first-org-conf-2015", "wrccdc-2017", "wrccdc-2018", "honeypot-2018"):
        suricata_stream(out, shared, sample, truth)
        streams.append("suricata-%s.log" % sample)

    # Our two site streams: last year, and across New Year.
    with open(os.path.join(HERE, "attacks", "truth.jsonl"), encoding="utf-8") as f:
        hand = [json.loads(line) for line in f if line.strip()]
    rnd = random.Random(SEED)
    n1 = site_stream(out, "site-2025.log", rnd, d("2025-09-16T00:00:00"), d("2025-09-17T00:00:00"),
                     sorted({a["file"] for a in hand if a["stream"] == "site-2025.log"}),
                     lambda m: 2025, 1.0)
    n2 = site_stream(out, "site-newyear.log", rnd, d("2025-12-31T22:00:00"),
                     d("2026-01-01T03:00:00"),
                     sorted({a["file"] for a in hand if a["stream"] == "site-newyear.log"}),
                     lambda m: 2025 if m == 12 else 2026, 0.3)
    streams += ["site-2025.log", "site-newyear.log"]
    truth += hand

    attacks = [t for t in truth if not t.get("dont_care")]
    by_type = {}
    for a in attacks:
        by_type[a["type"]] = by_type.get(a["type"], 0) + 1
    with open(os.path.join(out, "truth.jsonl"), "w", encoding="utf-8") as f:
        for t in truth:
            f.write(json.dumps(t, sort_keys=True) + "\n")
        f.write(json.dumps({"summary": True, "corpus": "tests/eval", "attacks": len(attacks),
                            "dont_care": len(truth) - len(attacks), "by_type": by_type,
                            "streams": streams, "site_lines": [n1, n2]}, sort_keys=True) + "\n")
    write_lines(os.path.join(out, "streams.txt"), streams)
    return 0


if __name__ == "__main__":
    sys.exit(main())
