"""The server and secure-OS decoders (issue 24) through the real binary:
records of each product reach SigmaHQ's rules for their log source, and
hikeshi's own rules fire on them.

- SigmaHQ's auditd rules on the real audit.log of Security-Datasets'
  atomic dd run (lnx_auditd_binary_padding), and a rule naming a syscall
  (SYSCALL: socket, a0: 26) on a raw SYSCALL record carried by audispd,
  whose number the decoder names;
- SigmaHQ's antivirus rule on a Defender 1116/1117 in each forwarded shape
  (NXLog flat JSON, Winlogbeat JSON, evtx_dump JSON) and on a clamd line;
- SigmaHQ's DNS rule on a BIND query log line;
- hikeshi scan over bursts of mail, VPN and RADIUS failures and an
  AppArmor denial: mail_bruteforce, vpn_bruteforce, vpn_bruteforce_by_user
  and the credential-file denial rule fire, and nothing fires on the same
  lines below the counts.
- hikeshi scan over 5 FortiGate SSL VPN and 5 GlobalProtect login failures
  from one address each: the firewall VPN brute-force correlation fires for
  both addresses, and not over 4 of each;
- hikeshi scan over bursts of MySQL, PostgreSQL, vsftpd and ProFTPD
  failures, each followed by an accepted login: the database and FTP brute
  force rules (by source, by account, then success) fire, and none of them
  one failure below each count;
- the daemon (hikeshi run, syslog over TCP) given one address's database
  failures and FTP failures, and another's one failure fewer: the
  brute-force alerts are stored for the first address only;
- hikeshi scan over zed-sample-data's real notice.log in Zeek's TSV form:
  every SSL::Invalid_Server_Cert row raises its rule, and the generic
  notice rule raises nothing (not on those rows, not on the header lines).

The lines other than the Security-Datasets file and zed-sample-data's
notice.log are written from the products' documented formats (see the
decoders' unit tests)."""

import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SHARED, SOURCE, Daemon, check, finish, syslog_stamp,  # noqa: E402
                     wait_for)

SIGMA = os.path.join(SHARED, "sigma", "rules")
AUDIT = os.path.join(SHARED, "data", "windows", "Security-Datasets", "datasets", "atomic",
                     "linux", "defense_evasion", "host",
                     "sh_binary_padding_dd_2020-11-10081941.log")


def rules_test(rule, *files):
    """Runs `hikeshi rules test`; returns (events, matched, output)."""
    # from the source root: the default rules and mappings are ./rules
    p = subprocess.run([BIN, "rules", "test", rule] + list(files), capture_output=True,
                       text=True, timeout=60, cwd=SOURCE)
    last = [l for l in p.stdout.splitlines() if "event(s)," in l]
    if not last:
        return -1, -1, p.stdout + p.stderr
    words = last[-1].split()
    return int(words[0]), int(words[2]), p.stdout


def write(d, name, lines):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def db_ftp_failures(ip, n, stamp):
    """n refused database logins and n refused FTP logins from `ip`, all
    for the account admin, each product's half as its server writes it
    (MySQL 8 and PostgreSQL with %h in log_line_prefix; vsftpd and
    ProFTPD), through syslog."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append("%s db1 mysqld[812]: 2026-11-23T08:20:%02d.000000Z %d [Note] [MY-010926] "
                       "[Server] Access denied for user 'admin'@'%s' (using password: YES)"
                       % (stamp(i), i, 100 + i, ip))
        else:
            out.append("%s db2 postgres[%d]: [%d-1] 2026-11-23 08:20:%02d.000 UTC [%d] "
                       "host=%s admin@postgres FATAL:  password authentication failed for "
                       "user \"admin\"" % (stamp(i), 900 + i, i, i, 900 + i, ip))
    for i in range(n):
        if i % 2 == 0:
            out.append("%s ftp1 vsftpd[%d]: [admin] FAIL LOGIN: Client \"%s\""
                       % (stamp(n + i), 800 + i, ip))
        else:
            out.append("%s ftp2 proftpd[%d]: ftp.example.org (%s[%s]) - USER admin "
                       "(Login failed): Incorrect password" % (stamp(n + i), 700 + i, ip, ip))
    return out


DB_FTP_TITLES = ["Database Authentication Brute Force From One Source",
                 "FTP Authentication Brute Force From One Source"]


def daemon_bursts():
    """The daemon over syslog TCP: one address's 10 database and 10 FTP
    failures open both brute-force alerts; another's 9 and 9 open none."""
    d = Daemon()
    d.start()
    try:
        now = syslog_stamp()
        lines = (db_ftp_failures("203.0.113.30", 10, lambda i: now) +
                 db_ftp_failures("203.0.113.31", 9, lambda i: now))
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall("".join("<38>%s\n" % l for l in lines).encode())
        s.close()

        # every line of both addresses stored, decoded by its product's
        # decoder (and so every alert they make stored too)
        def decoders():
            try:
                return [e["decoder"] for e in d.events()
                        if e["decoder"] in ("mysql", "postgres", "vsftpd", "proftpd")]
            except Exception:  # the store not yet created
                return []
        wait_for(lambda: len(decoders()) >= 38, timeout=20)
        decs = decoders()
        check(len(decs) == 38 and len(set(decs)) == 4,
              "daemon: the 38 lines stored, decoded by mysql, postgres, vsftpd and proftpd "
              "(%d, %s)" % (len(decs), sorted(set(decs))))

        def brute():
            """(title, group-by values) of the stored brute-force alerts."""
            try:
                return [(a["rule_title"], json.loads(a["fields"]).get("group"))
                        for a in d.alerts() if a["rule_title"] in DB_FTP_TITLES]
            except Exception:  # the store not yet created
                return []
        check(wait_for(lambda: len(brute()) >= 2, timeout=20),
              "daemon: the database and FTP brute-force alerts are stored (%s)" % brute())
        got = brute()
        for title in DB_FTP_TITLES:
            mine = [g for t, g in got if t == title]
            check(mine == [{"source.ip": "203.0.113.30"}],
                  "daemon: %s, once, for 203.0.113.30 (%s)" % (title, mine))
        check(not any(g == {"source.ip": "203.0.113.31"} for _, g in got),
              "daemon: nothing for the address one failure under each count (%s)" % got)
    finally:
        check(d.stop() == 0, "daemon: stops cleanly")


def main():
    with tempfile.TemporaryDirectory() as d:
        # auditd: SigmaHQ's rule on the real records
        n, m, out = rules_test(os.path.join(SIGMA, "linux", "auditd", "execve",
                                            "lnx_auditd_binary_padding.yml"), AUDIT)
        check(n == 6 and m == 1, "SigmaHQ binary padding rule: the dd EXECVE of 6 real "
              "audit records matches (%d of %d)" % (m, n))
        check("decoder auditd" in out, "the real audit.log lines are decoded by auditd")
        syscall = write(d, "syscall.log", [
            "Nov 23 10:00:00 rhel9 audispd: node=rhel9 type=SYSCALL msg=audit(1795435200.250:906): "
            "arch=c000003e syscall=41 success=yes exit=3 a0=26 a1=5 a2=0 a3=0 items=0 ppid=1 "
            "pid=4242 auid=1000 uid=1000 comm=\"x\" exe=\"/tmp/x\" key=(null)",
            "Nov 23 10:00:01 rhel9 audispd: node=rhel9 type=SYSCALL msg=audit(1795435201.250:907): "
            "arch=c000003e syscall=41 success=yes exit=3 a0=2 a1=1 a2=0 a3=0 items=0 ppid=1 "
            "pid=4243 auid=1000 uid=1000 comm=\"curl\" exe=\"/usr/bin/curl\" key=(null)",
        ])
        rule = os.path.join(SHARED, "sigma", "rules-emerging-threats", "2026", "Exploits",
                            "CVE-2026-31431",
                            "lnx_auditd_exploit_cve_2026_31431_af_alg_socket_creation.yml")
        n, m, out = rules_test(rule, syscall)
        check(n == 2 and m == 1, "SigmaHQ AF_ALG rule: the socket(38) record matches, the "
              "socket(2) one does not (%d of %d)" % (m, n))

        # antivirus: Defender in three forwarded shapes, and ClamAV
        av = write(d, "av.jsonl", [
            json.dumps({"EventTime": "2026-11-23 10:00:00", "Hostname": "WS1", "EventID": 1116,
                        "Channel": "Microsoft-Windows-Windows Defender/Operational",
                        "Threat Name": "HackTool:Win32/Mimikatz.D",
                        "Path": "file:_C:\\Users\\bob\\mimikatz.exe"}),
            json.dumps({"@timestamp": "2026-11-23T10:00:01Z", "event": {"code": "1117"},
                        "winlog": {"channel": "Microsoft-Windows-Windows Defender/Operational",
                                   "event_id": "1117",
                                   "event_data": {"Threat Name": "HackTool:Win32/Mimikatz.D",
                                                  "Path": "file:_C:\\Users\\bob\\m.exe"}}}),
            json.dumps({"Event": {"System": {"EventID": 1116, "Computer": "WS1",
                                             "Channel": "Microsoft-Windows-Windows "
                                                        "Defender/Operational"},
                                  "EventData": {"Threat Name": "HackTool:Win32/Mimikatz.D",
                                                "Path": "file:_C:\\Users\\bob\\m.exe"}}}),
        ])
        clam = write(d, "clam.log", [
            "Nov 23 10:00:02 web01 clamd[1234]: /srv/www/upload/m.exe: Win.Tool.Mimikatz-9 FOUND",
            "Nov 23 10:00:03 web01 clamd[1234]: /srv/www/upload/notes.txt: OK",
        ])
        n, m, out = rules_test(os.path.join(SIGMA, "category", "antivirus",
                                            "av_password_dumper.yml"), av, clam)
        check(n == 5 and m == 4, "SigmaHQ password dumper rule: 3 Defender shapes and the "
              "clamd detection match, the clamd OK line does not (%d of %d)" % (m, n))
        check("decoder clamav" in out, "the clamd line is decoded by clamav")

        # DNS: a BIND query for a name SigmaHQ watches
        dns = write(d, "named.log", [
            "Nov 23 10:00:04 ns1 named[812]: client @0x7f2c3c0b2a60 192.0.2.44#53412 "
            "(api.telegram.org): query: api.telegram.org IN A +E(0)K (192.0.2.53)",
            "Nov 23 10:00:05 ns1 named[812]: client @0x7f2c3c0b2a60 192.0.2.44#53413 "
            "(www.example.org): query: www.example.org IN A +E(0)K (192.0.2.53)",
        ])
        n, m, out = rules_test(os.path.join(SIGMA, "network", "dns",
                                            "net_dns_susp_telegram_api.yml"), dns)
        check(n == 2 and m == 1, "SigmaHQ Telegram API DNS rule: the BIND query for "
              "api.telegram.org matches, the other does not (%d of %d)" % (m, n))

        # hikeshi's own rules: bursts over the counts, and under them
        lines = []
        for i in range(10):
            lines.append("Nov 23 08:12:%02d mx1 postfix/smtpd[2345]: warning: "
                         "unknown[203.0.113.7]: SASL LOGIN authentication failed: "
                         "UGFzc3dvcmQ6" % (i * 3))
        for i in range(5):
            lines.append("Nov 23 09:00:%02d gw openvpn[812]: 203.0.113.66:5%04d TLS Auth "
                         "Error: Auth Username/Password verification failed for peer" % (i * 5, i))
        for i in range(10):
            lines.append("Nov 23 09:10:%02d radius1 radiusd[900]: Auth: (%d) Login incorrect: "
                         "[alice] (from client vpn-gw port 0 cli 02-00-00-00-00-%02d)"
                         % (i * 2, i, i))
        lines.append("Nov 23 10:00:00 web01 kernel: [ 8123.456789] audit: type=1400 "
                     "audit(1795435201.250:906): apparmor=\"DENIED\" operation=\"open\" "
                     "profile=\"/usr/sbin/nginx\" name=\"/etc/shadow\" pid=1234 comm=\"nginx\" "
                     "requested_mask=\"r\" denied_mask=\"r\" fsuid=33 ouid=0")
        burst = write(d, "burst.log", lines)
        # the same with one failure fewer in each group
        under = write(d, "under.log", lines[1:10] + lines[11:15] + lines[16:25])

        def fired(path):
            p = subprocess.run([BIN, "scan", "-q", "-f", "jsonl", path], capture_output=True,
                               text=True, timeout=120, cwd=SOURCE)
            return [json.loads(l)["rule"]["title"] for l in p.stdout.splitlines() if l.strip()]

        got = fired(burst)
        for title in ["Mail Authentication Brute Force From One Source",
                      "VPN Authentication Brute Force From One Source",
                      "VPN Authentication Failures Against One Account",
                      "SELinux or AppArmor Denied Access to a Credential File"]:
            check(title in got, "scan over the burst: %s fires" % title)
        got = fired(under)
        check(not any("Brute Force" in t or "Against One Account" in t for t in got),
              "scan one failure under each count: no brute-force alert (%s)" % got)

        # The firewall's own remote access (issue 24, MISSION.md 1: brute
        # force on a permitted service seen at the firewall): 5 FortiGate SSL
        # VPN login failures from one address, 5 GlobalProtect portal
        # failures from another, each within 5 minutes; then 4 of each.  The
        # times only go forward (the FortiGate's, then the Palo Alto's a few
        # minutes later): an event older than the correlation's window is late.
        def fw_failures(n):
            out, gp = [], []
            for i in range(n):
                out.append('<189>date=2024-05-10 time=11:3%d:%02d devname="FGT-HQ" '
                           'devid="FG100E4Q17000001" logid="0101039426" type="event" '
                           'subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" '
                           'action="ssl-login-fail" tunneltype="ssl-web" tunnelid=0 '
                           'remip=192.0.2.200 user="user%d" group="N/A" '
                           'reason="sslvpn_login_unknown_user" msg="SSL user failed to logged in"'
                           % (7 + i // 3, (i % 3) * 20, i))
                gp.append("<14>May 10 11:4%d:00 PA-VM 1,2024/05/10 11:4%d:00,012801000000,"
                           "GLOBALPROTECT,0,2560,2024/05/10 11:4%d:00,vsys1,portal-auth,login,"
                           "LDAP,,jdoe,US,LAPTOP-01,203.0.113.77,::,0.0.0.0,::,abcd-1234,,6.1.0,"
                           "Windows,\"Microsoft Windows 10 Pro , 64-bit\",1,,Authentication "
                           "failed: Invalid username or password,,failure,,0,on-demand,0,"
                           "GP-Portal,72000000000000000%02d,0x0" % (i, i, i, i))
            return out + gp

        def fired_ips(path, title):
            p = subprocess.run([BIN, "scan", "-q", "-f", "jsonl", path], capture_output=True,
                               text=True, timeout=120, cwd=SOURCE)
            which = set()  # whose failures each alert is about, by the address
            for l in p.stdout.splitlines():
                a = json.loads(l) if l.strip() else {}
                if a.get("rule", {}).get("title") == title:
                    text = json.dumps(a)
                    which.add("fortigate" if "192.0.2.200" in text else
                              "panos" if "203.0.113.77" in text else "other")
            return which

        fw_title = "Password Guessing Against a Firewall's VPN or Administration Login"
        got = fired_ips(write(d, "fw_burst.log", fw_failures(5)), fw_title)
        check(got == {"fortigate", "panos"}, "scan over 5 FortiGate SSL VPN and 5 GlobalProtect "
              "login failures from one address each: the firewall VPN brute force fires for "
              "both (%s)" % sorted(got))
        got = fired_ips(write(d, "fw_under.log", fw_failures(4)), fw_title)
        check(not got, "scan over 4 of each: no firewall VPN brute force (%s)" % sorted(got))

        # databases and FTP: 10 failures each from one address, then a
        # login accepted from it (FTP) and of the guessed account
        # (PostgreSQL); the same one failure under each count
        def at(base):
            return lambda i: "Nov 23 %s:%02d" % (base, i)
        ok = ["Nov 23 08:22:00 ftp1 vsftpd[830]: [admin] OK LOGIN: Client \"203.0.113.30\"",
              "Nov 23 08:22:01 db2 postgres[950]: [20-1] 2026-11-23 08:22:01.000 UTC [950] "
              "host=198.51.100.30 admin@postgres LOG:  connection authorized: user=admin "
              "database=postgres"]
        burst = write(d, "dbftp.log", db_ftp_failures("203.0.113.30", 10, at("08:20")) + ok)
        under = write(d, "dbftp_under.log",
                      db_ftp_failures("203.0.113.31", 9, at("08:20")) +
                      [l.replace("203.0.113.30", "203.0.113.31") for l in ok])
        got = fired(burst)
        for title in DB_FTP_TITLES + [
                "Database Authentication Failures Against One Account",
                "Database Password Guessing Followed by a Successful Login",
                "FTP Authentication Failures Against One Account",
                "FTP Brute Force Followed by a Successful Login"]:
            check(title in got, "scan over the database and FTP burst: %s fires" % title)
        got = fired(under)
        check(not any("Brute Force" in t or "Against One Account" in t or "Guessing" in t
                      for t in got),
              "scan one database and FTP failure under each count: no brute-force alert (%s)"
              % got)

        def incident_types(path):
            inc = os.path.join(d, "incidents.jsonl")
            subprocess.run([BIN, "scan", "-q", "-f", "jsonl", "--incidents", inc, path],
                           capture_output=True, timeout=120, cwd=SOURCE)
            with open(inc) as f:
                return [json.loads(l)["type"] for l in f if l.strip()]
        types = incident_types(burst)
        check("intruded, no damage yet" in types,
              "scan over the database and FTP burst: the login after the guessing makes an "
              "incident 'intruded, no damage yet' (triage.yaml by_rule; %s)" % types)
        types = incident_types(under)
        check("intruded, no damage yet" not in types,
              "scan one failure under each count: no intruded incident (%s)" % types)

        # Zeek notices: the real notice.log of zed-sample-data, TSV form
        notice = os.path.join(d, "notice.log")
        with gzip.open(os.path.join(SHARED, "data", "network", "zed-sample-data",
                                    "zeek-default", "notice.log.gz"), "rb") as f:
            raw = f.read()
        with open(notice, "wb") as f:
            f.write(raw)
        rows = [l for l in raw.decode().splitlines() if not l.startswith("#")]
        certs = sum(1 for l in rows if "\tSSL::Invalid_Server_Cert\t" in l)
        got = fired(notice)
        check(certs == 207 and got.count("Zeek Notice of an Invalid TLS Server Certificate") ==
              certs, "scan of the real notice.log: each of its %d SSL::Invalid_Server_Cert rows "
              "raises its rule (%d)"
              % (certs, got.count("Zeek Notice of an Invalid TLS Server Certificate")))
        check("Zeek Notice" not in got, "scan of the real notice.log: the generic notice rule "
              "raises nothing (%d)" % got.count("Zeek Notice"))

    daemon_bursts()
    finish()


if __name__ == "__main__":
    main()
