"""Correlations on real and hand-written logs through `hikeshi scan`:
ssh_bruteforce on loghub Linux_2k.log (old sshd(pam_unix) failure lines,
nothing else; sources known only by name), ssh_account_guessing paced
under the fast count, folded "message repeated" lines, sudo_bruteforce
from PAM lines alone, web_scanner_burst by
4xx answers for distinct targets whatever the user agent, and
web_scanner_ua_burst for a tool that names itself; each with near misses
that must stay silent."""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

LINUX_2K = os.path.join(SHARED, "data", "linux-logs", "loghub", "Linux", "Linux_2k.log")


def scan(tmp, path):
    """Alerts of `hikeshi scan -f jsonl PATH` with the source tree's rules."""
    cfg = os.path.join(tmp, "hikeshi.yaml")
    with open(cfg, "w") as f:
        f.write("sigma:\n  rules: [%s]\n  mappings: %s\n" %
                (os.path.join(SOURCE, "rules"), os.path.join(SOURCE, "rules", "config")))
    r = subprocess.run([BIN, "scan", "-q", "-c", cfg, "-f", "jsonl", path],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "scan %s exits 0 (%d: %s)" % (os.path.basename(path), r.returncode,
                                                          r.stderr[-300:]))
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def corr(alerts, name_fragment):
    return [a for a in alerts if a.get("kind") == "correlation" and
            name_fragment in a["rule"]["title"]]


def titles(alerts, fragment):
    return [a for a in alerts if fragment in a["rule"]["title"]]


def linux_2k(tmp):
    alerts = scan(tmp, LINUX_2K)
    bf = corr(alerts, "SSH Brute Force Against One Host")
    check(len(bf) >= 5, "Linux_2k: ssh_bruteforce fires on the old PAM failures (%d)" % len(bf))
    with open(LINUX_2K, errors="replace") as f:
        rhosts = set(re.findall(r"rhost=(\S+)", f.read()))
    groups = [a["correlation"]["group"].get("source.ip") for a in bf]
    check(all(g in rhosts for g in groups),
          "Linux_2k: every brute-force source is an rhost of the file (%s)" % groups[:5])
    named = corr(alerts, "SSH Brute Force From a Named Host")
    doms = [a["correlation"]["group"].get("source.domain") for a in named]
    check(len(named) >= 5 and all(d in rhosts and not re.match(r"^[0-9.]+$", d) for d in doms),
          "Linux_2k: sources known only by name are counted by name (%d: %s)"
          % (len(named), doms[:3]))
    root = titles(alerts, "SSH Login Failure for Root")
    check(len(root) > 0, "Linux_2k: root login failures raised (%d)" % len(root))


def sudo(tmp):
    lines = []
    # mallory guesses: PAM lines only, 12 in 2 minutes
    for i in range(12):
        lines.append("Nov 23 11:%02d:%02d app03 sudo: pam_unix(sudo:auth): authentication failure; "
                     "logname=mallory uid=1003 euid=0 tty=/dev/pts/4 ruser=mallory rhost=  "
                     "user=mallory" % (i // 6, (i * 9) % 60))
    # alice mistypes once, then succeeds
    lines.append("Nov 23 12:00:00 app03 sudo: pam_unix(sudo:auth): authentication failure; "
                 "logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice")
    lines.append("Nov 23 12:00:05 app03 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; "
                 "USER=root ; COMMAND=/usr/bin/id")
    # bob exhausts one run: three PAM failures and sudo's summary
    for i in range(3):
        lines.append("Nov 23 12:10:%02d app03 sudo: pam_unix(sudo:auth): authentication failure; "
                     "logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob"
                     % (i * 3))
    lines.append("Nov 23 12:10:10 app03 sudo:      bob : 3 incorrect password attempts ; "
                 "TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash")
    # dan fails two whole runs (three PAM lines and the summary each), then
    # gets in: eight failures, a person, not a guesser
    for run in range(2):
        for i in range(3):
            lines.append("Nov 23 12:30:%02d app03 sudo: pam_unix(sudo:auth): authentication "
                         "failure; logname=dan uid=1005 euid=0 tty=/dev/pts/3 ruser=dan rhost=  "
                         "user=dan" % (run * 20 + i * 4))
        lines.append("Nov 23 12:30:%02d app03 sudo:      dan : 3 incorrect password attempts ; "
                     "TTY=pts/3 ; PWD=/home/dan ; USER=root ; COMMAND=/bin/bash" % (run * 20 + 14))
    lines.append("Nov 23 12:30:50 app03 sudo:      dan : TTY=pts/3 ; PWD=/home/dan ; "
                 "USER=root ; COMMAND=/bin/bash")
    # carol fails twice on each of three hosts: never five on one host
    for h in ("app04", "app05", "app06"):
        for s in (1, 2):
            lines.append("Nov 23 12:20:%02d %s sudo: pam_unix(sudo:auth): authentication "
                         "failure; logname=carol uid=1004 euid=0 tty=/dev/pts/2 ruser=carol "
                         "rhost=  user=carol" % (s, h))
    path = os.path.join(tmp, "sudo.log")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    hits = corr(scan(tmp, path), "sudo Password Guessing")
    groups = sorted((a["correlation"]["group"].get("user.name"),
                     a["correlation"]["group"].get("host.name")) for a in hits)
    check(groups == [("mallory", "app03")],
          "sudo_bruteforce: mallory on app03 only, from PAM lines alone (%s)" % groups)


def access(ip, path, status, ua="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101",
           sec=0):
    return '%s - - [23/Nov/2026:10:%02d:%02d +0000] "GET %s HTTP/1.1" %d 153 "-" "%s"' % (
        ip, sec // 60, sec % 60, path, status, ua)


def web(tmp):
    lines = []
    # a scanner with a browser's user agent: 30 distinct paths, all 404
    for i in range(30):
        lines.append(access("203.0.113.90", "/probe/%d/admin.php" % i, 404, sec=i))
    # a client retrying one broken link 50 times
    for i in range(50):
        lines.append(access("198.51.100.10", "/img/missing.png", 404, sec=i))
    # a client with 19 distinct 404s
    for i in range(19):
        lines.append(access("198.51.100.11", "/old/page-%d.html" % i, 404, sec=i))
    # a crawler with 40 distinct pages that exist
    for i in range(40):
        lines.append(access("198.51.100.12", "/article/%d" % i, 200, sec=i))
    # a tool that names itself, fetching "/" (200) 15 times: a banner grab
    for i in range(15):
        lines.append(access("192.0.2.66", "/", 200, ua="masscan/1.3", sec=i))
    path = os.path.join(tmp, "access.log")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    alerts = scan(tmp, path)
    groups = sorted(a["correlation"]["group"].get("source.ip")
                    for a in corr(alerts, "Web Scan or Fuzzing Burst"))
    check(groups == ["203.0.113.90"],
          "web_scanner_burst: the scanner with a browser user agent only (%s)" % groups)
    groups = sorted(a["correlation"]["group"].get("source.ip")
                    for a in corr(alerts, "Self-Announced Web Scanner"))
    check(groups == ["192.0.2.66"],
          "web_scanner_ua_burst: the tool that names itself, all answers 200 (%s)" % groups)


def ssh_slow(tmp):
    """Account guessing paced under any per-10-minute count: one try every
    47 minutes from one address, each on another name; beside it an
    administrator who mistypes their own password six times in an
    afternoon (one name: not guessing) and a host folded by syslogd into
    "message repeated" lines (one failure plus four folded: five)."""
    lines = []
    for i, user in enumerate(["test", "oracle", "matlab", "test9", "guest"]):
        m = 7 * 60 + 47 * i
        lines.append("Dec 10 %02d:%02d:38 bastion sshd[%d]: Invalid user %s from 198.51.100.44"
                     % (m // 60, m % 60, 24000 + i, user))
        lines.append("Dec 10 %02d:%02d:45 bastion sshd[%d]: Failed password for invalid user %s "
                     "from 198.51.100.44 port 36060 ssh2" % (m // 60, m % 60, 24000 + i, user))
    for i in range(6):
        lines.append("Dec 10 %02d:15:02 bastion sshd[%d]: Failed password for alice from "
                     "10.0.10.21 port 5%04d ssh2" % (13 + i // 2, 25000 + i, i))
        lines.append("Dec 10 %02d:15:09 bastion sshd[%d]: Accepted password for alice from "
                     "10.0.10.21 port 5%04d ssh2" % (13 + i // 2, 25000 + i, i))
    lines.append("Dec 10 19:13:43 bastion sshd[26227]: Failed password for root from "
                 "203.0.113.61 port 42393 ssh2")
    lines.append("Dec 10 19:13:56 bastion sshd[26227]: message repeated 4 times: [ Failed "
                 "password for root from 203.0.113.61 port 42393 ssh2]")
    lines.sort(key=lambda l: l[7:15])
    path = os.path.join(tmp, "ssh-slow.log")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    alerts = scan(tmp, path)
    guess = sorted({a["correlation"]["group"].get("source.ip")
                    for a in corr(alerts, "SSH Account Guessing")})
    check(guess == ["198.51.100.44"],
          "ssh_account_guessing: the paced multi-name guess only, not the typing admin (%s)"
          % guess)
    fast = sorted({a["correlation"]["group"].get("source.ip")
                   for a in corr(alerts, "SSH Brute Force Against One Host")})
    check(fast == ["203.0.113.61"],
          "ssh_bruteforce: folded repeats count, paced guessing and typos do not (%s)" % fast)


def main():
    with tempfile.TemporaryDirectory(prefix="hikeshi-detect-") as tmp:
        linux_2k(tmp)
        ssh_slow(tmp)
        sudo(tmp)
        web(tmp)
    finish()


if __name__ == "__main__":
    main()
