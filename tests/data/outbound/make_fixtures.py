#!/usr/bin/env python3
"""Writes the labelled fixtures of tests/data/outbound/ (README.md says what
each line is).  Deterministic: run it again and the files do not change.

  eve-dns-tunnel.json   Suricata EVE dns records (v2 layout): a client
                        resolving base32-encoded names under one domain
                        (the attack), its answers, and its ordinary lookups.
  conn-exfil.json       Zeek conn.log (JSON) for 10.47.9.15 and Suricata
                        EVE flow records for 10.47.9.16: eight days of
                        ordinary traffic (1 to 4 connections an hour at
                        random moments to four usual addresses), then an
                        upload of about 1 GB to a new address on 8443.
"""
import base64
import datetime
import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def b32(seed, n):
    """n characters of base32 from a hash chain (what a tunnel's encoder
    produces from compressed data)."""
    out, h = "", seed.encode()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += base64.b32encode(h).decode().rstrip("=").lower()
    return out[:n]


def dns_tunnel():
    client, resolver = "192.168.7.21", "192.168.7.1"
    t = datetime.datetime(2018, 3, 24, 17, 20, 0, tzinfo=UTC)
    lines = []
    tx = 4000
    for i in range(40):
        label = b32("chunk-%d" % i, 40 + (i * 7) % 20)
        name = "%s.%x.sync.exfil-relay.example" % (label, i)
        rec = {"timestamp": iso(t), "flow_id": 1000 + i, "event_type": "dns",
               "src_ip": client, "src_port": 40000 + i, "dest_ip": resolver,
               "dest_port": 53, "proto": "UDP",
               "dns": {"type": "query", "id": tx + i, "rrname": name, "rrtype": "TXT",
                       "tx_id": 0}}
        lines.append(rec)
        if i % 4 == 0:
            # The resolver's answer: EVE gives it the server as source.
            ans = {"timestamp": iso(t + datetime.timedelta(milliseconds=40)),
                   "flow_id": 1000 + i, "event_type": "dns", "src_ip": resolver,
                   "src_port": 53, "dest_ip": client, "dest_port": 40000 + i,
                   "proto": "UDP",
                   "dns": {"type": "answer", "id": tx + i, "flags": "8180",
                           "rrname": name, "rrtype": "TXT", "rcode": "NOERROR"}}
            lines.append(ans)
        if i % 10 == 5:
            ok = {"timestamp": iso(t + datetime.timedelta(milliseconds=500)),
                  "flow_id": 2000 + i, "event_type": "dns", "src_ip": client,
                  "src_port": 50000 + i, "dest_ip": resolver, "dest_port": 53,
                  "proto": "UDP",
                  "dns": {"type": "query", "id": 9000 + i,
                          "rrname": ["www.example.org", "mail.example.org",
                                     "login.microsoftonline.com", "cdn.example.net"][i // 10],
                          "rrtype": "A", "tx_id": 0}}
            lines.append(ok)
        t += datetime.timedelta(seconds=2, milliseconds=(i * 137) % 900)
    return lines


def conn_exfil():
    # Eight days before a Thursday: weekday hours have a week of baseline.
    start = datetime.datetime(2018, 3, 14, 0, 0, 0, tzinfo=UTC)
    usual = ["198.51.100.10", "198.51.100.11", "198.51.100.12", "192.0.2.80"]
    rng = random.Random(14)
    lines = []
    for h in range(8 * 24 + 14):
        for host in ("10.47.9.15", "10.47.9.16"):
            # 1 to 4 connections an hour at random moments: a person's or a
            # service's traffic, not a timer (which the beacon detector
            # would rightly report).
            for _ in range(rng.randint(1, 4)):
                dst = rng.choice(usual)
                t = start + datetime.timedelta(hours=h, seconds=rng.randint(0, 3599))
                ob = rng.randint(20000, 400000)
                rb = rng.randint(100000, 2000000)
                if host == "10.47.9.15":
                    lines.append({"_path": "conn", "ts": t.timestamp(),
                                  "uid": "C%012x" % rng.getrandbits(48),
                                  "id.orig_h": host, "id.orig_p": rng.randint(32768, 60999),
                                  "id.resp_h": dst, "id.resp_p": 443, "proto": "tcp",
                                  "service": "ssl", "duration": rng.randint(1, 60) / 4,
                                  "orig_bytes": ob - 2000, "resp_bytes": rb - 4000,
                                  "conn_state": "SF", "orig_pkts": ob // 1000 + 5,
                                  "orig_ip_bytes": ob, "resp_pkts": rb // 1400 + 5,
                                  "resp_ip_bytes": rb})
                else:
                    lines.append({"timestamp": iso(t), "flow_id": rng.getrandbits(50),
                                  "event_type": "flow", "src_ip": host,
                                  "src_port": rng.randint(32768, 60999), "dest_ip": dst,
                                  "dest_port": 443, "proto": "TCP", "app_proto": "tls",
                                  "flow": {"pkts_toserver": ob // 1000 + 5,
                                           "pkts_toclient": rb // 1400 + 5,
                                           "bytes_toserver": ob, "bytes_toclient": rb,
                                           "start": iso(t),
                                           "end": iso(t + datetime.timedelta(seconds=15)),
                                           "age": 15, "state": "closed", "reason": "timeout",
                                           "alerted": False}})
    # The exfiltration: Thursday 2018-03-22 14:20, four uploads of ~250 MB
    # each to an address neither host ever reached, on 8443.
    t = datetime.datetime(2018, 3, 22, 14, 20, 0, tzinfo=UTC)
    for i in range(4):
        ob = 250000000 + i * 1234567
        tt = t + datetime.timedelta(minutes=3 * i)
        lines.append({"_path": "conn", "ts": tt.timestamp(), "uid": "Cexfil%d" % i,
                      "id.orig_h": "10.47.9.15", "id.orig_p": 61000 + i,
                      "id.resp_h": "203.0.113.50", "id.resp_p": 8443, "proto": "tcp",
                      "duration": 170.0, "orig_bytes": ob - 500000, "resp_bytes": 90000,
                      "conn_state": "SF", "orig_pkts": 180000, "orig_ip_bytes": ob,
                      "resp_pkts": 90000, "resp_ip_bytes": 3700000})
        lines.append({"timestamp": iso(tt + datetime.timedelta(seconds=30)),
                      "flow_id": 900000 + i, "event_type": "flow",
                      "src_ip": "10.47.9.16", "src_port": 62000 + i,
                      "dest_ip": "203.0.113.50", "dest_port": 8443, "proto": "TCP",
                      "flow": {"pkts_toserver": 180000, "pkts_toclient": 90000,
                               "bytes_toserver": ob, "bytes_toclient": 3700000,
                               "start": iso(tt), "end": iso(tt + datetime.timedelta(seconds=170)),
                               "age": 170, "state": "closed", "reason": "timeout",
                               "alerted": False}})
    return lines


def key(rec):
    if "ts" in rec:
        return rec["ts"]
    return datetime.datetime.strptime(rec["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def write(name, recs):
    recs.sort(key=key)
    with open(os.path.join(HERE, name), "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    write("eve-dns-tunnel.json", dns_tunnel())
    write("conn-exfil.json", conn_exfil())
