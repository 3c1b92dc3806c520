"""End to end for the outbound detectors (docs/anomaly.md) through
`hikeshi scan`: the labelled fixtures of tests/data/outbound/ (README.md
there says what each line is) alone and merged by time into real traffic
(the zed sample Zeek dns.log of WRCCDC 2018, the OTRF APT29 Zeek logs), and
the `anomaly.internal` option.

What must hold:
- the DNS tunnel of 192.168.7.21 (Suricata EVE dns) raises one
  anomaly.dns_tunnel alert and an incident of type "intruded, no damage
  yet", and nothing else in 53,615 real DNS records around it does;
- the uploads of 10.47.9.15 (Zeek conn) and 10.47.9.16 (EVE flow) each raise
  one anomaly.outbound_volume and one anomaly.first_seen_external alert and
  one "damage manifest" incident, and their eight days of ordinary traffic
  raise nothing (no beacon either: it is not periodic);
- the real APT29 and WRCCDC logs alone raise no DNS tunnel and no outbound
  volume alert (both days are within the first-seen learning period, so
  first_seen_external is only printed, not asserted);
- with `anomaly: internal: [192.168.0.0/16]` the 10.47/16 hosts are outside
  and raise nothing, while the 192.168 client's tunnel still does."""

import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

DATA = os.path.join(SOURCE, "tests/data/outbound")
# rules/suricata_flow_large_upload_external.yml
UPLOAD_RULE = "4a111681-8615-4aa4-a442-bc4faa733618"
ZED_DNS = os.path.join(SHARED, "data/network/zed-sample-data/zeek-json/dns.json.gz")
APT29 = os.path.join(SHARED, "data/network/Security-Datasets-apt29/datasets/compound/apt29")
OUTBOUND = ("anomaly.dns_tunnel", "anomaly.outbound_volume", "anomaly.first_seen_external")


def rec_time(line):
    """Event time of a Zeek ("ts": epoch or ISO) or EVE ("timestamp") line."""
    d = json.loads(line)
    t = d.get("ts", d.get("timestamp"))
    if isinstance(t, (int, float)):
        return float(t)
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def read_lines(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]


def merged(tmp, name, paths):
    """One file of every line of `paths`, in event time order (a sensor's
    feed, as the detectors expect)."""
    lines = []
    for p in paths:
        lines += read_lines(p)
    lines.sort(key=rec_time)
    out = os.path.join(tmp, name)
    with open(out, "w") as f:
        f.writelines(lines)
    return out, len(lines)


def scan(tmp, tag, path, config=None):
    """Alerts and incidents of one scan, as lists of dicts."""
    inc = os.path.join(tmp, tag + "-incidents.jsonl")
    args = [os.path.abspath(BIN), "scan", "--no-progress", "-f", "jsonl", "--incidents", inc]
    if config:
        args += ["-c", config]
    r = subprocess.run(args + [path], capture_output=True, timeout=600, cwd=SOURCE)
    check(r.returncode == 0, "%s: scan exits 0%s"
          % (tag, "" if r.returncode == 0 else " (%s)" % r.stderr.decode()[-300:]))
    alerts = [json.loads(l) for l in r.stdout.decode().splitlines() if l.startswith("{")]
    incidents = [json.loads(l) for l in open(inc)] if os.path.exists(inc) else []
    return alerts, incidents


def of(alerts, rule):
    return [a for a in alerts if a["rule"]["id"] == rule]


def entity(a, field):
    return a.get("anomaly", {}).get("entity", {}).get(field)


def main():
    if not check(os.path.exists(ZED_DNS) and os.path.isdir(APT29), "shared samples present"):
        finish()
    tmp = tempfile.mkdtemp(prefix="hikeshi-outbound-")

    # 1. The tunnel inside the real WRCCDC dns.log of the same minutes.
    path, n = merged(tmp, "dns.json", [ZED_DNS, os.path.join(DATA, "eve-dns-tunnel.json")])
    check(n > 53000, "merged DNS stream has the real records (%d lines)" % n)
    alerts, incidents = scan(tmp, "dns", path)
    tun = of(alerts, "anomaly.dns_tunnel")
    check(len(tun) == 1, "one dns_tunnel alert in the merged stream (got %d)" % len(tun))
    check(all(entity(a, "source.ip") == "192.168.7.21" for a in tun),
          "the dns_tunnel alert names the tunnel client, never a real one (%s)"
          % [entity(a, "source.ip") for a in tun])
    check(all(entity(a, "dns.question.registered_domain") == "exfil-relay.example" for a in tun),
          "the dns_tunnel alert names the tunnel's domain")
    inc = [i for i in incidents if i["entity"] == "source.ip=192.168.7.21"]
    check(len(inc) == 1 and inc[0]["type"] == "intruded, no damage yet",
          "one 'intruded, no damage yet' incident on the tunnel client (%s)" % inc)

    # 2. Upload after eight ordinary days, from Zeek conn and EVE flow.
    alerts, incidents = scan(tmp, "conn", os.path.join(DATA, "conn-exfil.json"))
    for host in ("10.47.9.15", "10.47.9.16"):
        vol = [a for a in of(alerts, "anomaly.outbound_volume") if entity(a, "source.ip") == host]
        ext = [a for a in of(alerts, "anomaly.first_seen_external")
               if entity(a, "source.ip") == host]
        check(len(vol) == 1, "%s: one outbound_volume alert (got %d)" % (host, len(vol)))
        check(len(ext) == 1 and entity(ext[0], "destination.ip") == "203.0.113.50"
              and entity(ext[0], "destination.port") == "8443",
              "%s: one first_seen_external alert, to 203.0.113.50:8443 (got %s)"
              % (host, [(entity(a, "destination.ip"), entity(a, "destination.port"))
                        for a in ext]))
        check(all(a["@timestamp"].startswith("2018-03-22T14:2") for a in vol + ext),
              "%s: the alerts are at the upload, not in the ordinary days" % host)
        inc = [i for i in incidents if i["entity"] == "source.ip=" + host]
        check(len(inc) == 1 and inc[0]["type"] == "damage manifest" and inc[0]["alerts"] == 2,
              "%s: one 'damage manifest' incident holding both alerts (%s)" % (host, inc))
    # The bundled Sigma rule for one Suricata flow carrying 100 MiB or more
    # out (suricata_flow_large_upload_external) sees the upload of the host
    # written as EVE flow records (10.47.9.16; 10.47.9.15's is Zeek conn),
    # and nothing else does.
    upload = [a for a in alerts if a["rule"]["id"] == UPLOAD_RULE]
    check(len(upload) >= 1 and {a["fields"].get("source.ip") for a in upload} == {"10.47.9.16"}
          and all(a["fields"].get("event.dataset") == "suricata.flow"
                  and int(a["fields"]["flow.bytes_toserver"]) >= 100 << 20 for a in upload),
          "the large-upload rule fires on the EVE host's upload flows only (%s)"
          % [(a["fields"].get("source.ip"), a["fields"].get("flow.bytes_toserver"))
             for a in upload])
    check(len(alerts) == 4 + len(upload), "nothing else in the fixture (got %s)"
          % sorted(a["rule"]["id"] for a in alerts))

    # 3. Real logs alone: no tunnel, no outbound volume.
    real = [ZED_DNS] + sorted(glob.glob(os.path.join(APT29, "day*/zeek/individual_zeek_logs/*_dns.log"))) \
        + sorted(glob.glob(os.path.join(APT29, "day*/zeek/individual_zeek_logs/*_conn.log")))
    path, n = merged(tmp, "real.json", real)
    alerts, _ = scan(tmp, "real", path)
    counts = {r: len(of(alerts, r)) for r in OUTBOUND}
    print("real background: %d records, outbound alerts %s" % (n, counts))
    check(counts["anomaly.dns_tunnel"] == 0, "no dns_tunnel alert on the real logs")
    check(counts["anomaly.outbound_volume"] == 0, "no outbound_volume alert on the real logs")

    # 4. anomaly.internal replaces the private ranges.
    cfg = os.path.join(tmp, "internal.yaml")
    with open(cfg, "w") as f:
        f.write("anomaly:\n  internal: [192.168.0.0/16]\n")
    path, _ = merged(tmp, "both.json", [os.path.join(DATA, "conn-exfil.json"),
                                        os.path.join(DATA, "eve-dns-tunnel.json")])
    alerts, _ = scan(tmp, "internal", path, config=cfg)
    check(len(of(alerts, "anomaly.dns_tunnel")) == 1,
          "internal: 192.168.0.0/16: the 192.168 client's tunnel still alerts")
    check(not of(alerts, "anomaly.outbound_volume") and not of(alerts, "anomaly.first_seen_external"),
          "internal: 192.168.0.0/16: the 10.47 hosts are outside, no outbound alert")
    finish()


if __name__ == "__main__":
    main()
