#!/usr/bin/env python3
"""bench-intel.py - the pipeline's rate with 0, 100k and 1M indicators loaded.

Issue 20 expects matching at line rate: with a million indicators loaded,
`hikeshi scan` should keep at least 0.9x its rate without any.  Each case
is the whole pipeline (decode, enrich, detect, triage, store) over the same
hikeshi-gen log, in a data directory whose store holds N indicators
imported with `hikeshi intel import` from a generated CSV: IPv4 addresses,
CIDR networks, domains and SHA-256 hashes in equal shares.  A few of them
are addresses the generator's attack and C2 lines use, so matches (and the
intel rules' alerts) happen; the alerts column shows it.  `--url-patterns
K` adds K URL pattern indicators (regexes, one Vectorscan database scanned
against every URL) to each set but the empty one: K - 1 that match none of
the generator's request targets and one that matches one of its blog
posts (`/blog/spring-sale-2026`), so that pattern matches happen.

`hikeshi scan -c CONFIG` matches the indicators of the configuration's
data_dir (loaded at start, as the daemon does) and stores nothing: the
default.  `--store`: every case, N = 0 included, runs with `--store` on a
fresh copy of its data directory instead, so events and alerts are stored
in every case alike (the indicators are then those of that store).

Printed per case: indicators, import seconds, matcher load seconds (scan of
a one-line file with N minus with 0), scan CPU seconds (user + system of
the process) and wall seconds, records/s (by CPU), the ratio to N = 0,
alerts, peak RSS, and memory per indicator (peak RSS delta over N = 0,
divided by N).  No assertion: figures for bench/README.md.

usage: bench/bench-intel.py BUILD [--records N] [--sizes 0,100000,1000000]
       [--runs R] [--store] [--keep] [--url-patterns K]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

# Addresses hikeshi-gen's attack and C2 lines use (bench/README.md), so the
# benchmark exercises matches; the rest of the set is random and disjoint
# from the generator's ranges.
HITS = ["198.51.100.0/24", "203.0.113.0/28", "192.0.2.0/24"]


def gen_csv(path, n, seed, npat=0):
    """n indicators: a quarter each of IPv4, CIDR, domains and SHA-256;
    npat URL patterns more when n > 0."""
    rnd = random.Random(seed)
    with open(path, "w") as f:
        f.write("type,value,confidence,tlp\n")
        if n and npat:
            f.write("url-pattern,^/blog/spring-sale-[0-9]+$,90,GREEN\n")
            for j in range(npat - 1):
                f.write("url-pattern,^/%x-%d/[a-z]+/.*\\.(php|jsp)$,80,GREEN\n"
                        % (rnd.getrandbits(32), j))
        hits = HITS if n else []
        for v in hits:
            f.write("ipv4,%s,90,GREEN\n" % v)
        seen = set(hits)
        i = 0
        while i < n - len(hits):
            k = i % 4
            if k == 0:
                # 11.0.0.0 - 99.255.255.255: none of the generator's ranges
                v = "%d.%d.%d.%d" % (rnd.randint(11, 99), rnd.randint(0, 255),
                                     rnd.randint(0, 255), rnd.randint(1, 254))
                t = "ipv4"
            elif k == 1:
                plen = rnd.choice((16, 20, 24, 28))
                a = (rnd.randint(100, 126) << 24) | rnd.getrandbits(24)
                a &= (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
                v = "%d.%d.%d.%d/%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, plen)
                t = "ipv4"
            elif k == 2:
                v = "%x%x.%s.example" % (rnd.getrandbits(40), i, rnd.choice(("net", "org", "com")))
                t = "domain"
            else:
                v = "%064x" % rnd.getrandbits(256)
                t = "sha256"
            if v in seen:
                continue
            seen.add(v)
            f.write("%s,%s,%d,GREEN\n" % (t, v, rnd.randint(60, 95)))
            i += 1


def run(argv, env=None):
    """Runs argv; returns (rc, cpu seconds, wall seconds, max RSS in kB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.stderr.write(err.decode(errors="replace"))
    return rc, ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--sizes", default="0,100000,1000000")
    ap.add_argument("--runs", type=int, default=1, help="scans per case; the fastest is kept")
    ap.add_argument("--store", action="store_true", help="scan --store a copy of the data dir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--url-patterns", type=int, default=0,
                    help="URL pattern indicators added to each non-empty set")
    a = ap.parse_args()
    hk = os.path.join(a.build, "hikeshi")
    gen = os.path.join(a.build, "bench", "hikeshi-gen")
    sizes = [int(x) for x in a.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="bench-intel.")
    try:
        log = os.path.join(tmp, "load.log")
        subprocess.run([gen, "--records", str(a.records), "--seed", "1", "-o", log], check=True)
        one = os.path.join(tmp, "one.log")
        with open(log) as f, open(one, "w") as o:
            o.write(f.readline())
        rows = []
        for n in sizes:
            d = os.path.join(tmp, "d%d" % n)
            os.makedirs(d)
            cfg = os.path.join(tmp, "c%d.yaml" % n)
            with open(cfg, "w") as f:
                f.write("data_dir: %s\n" % d)
            csvp = os.path.join(tmp, "i%d.csv" % n)
            gen_csv(csvp, n, n + 1, a.url_patterns)
            t0 = time.monotonic()
            rc = subprocess.run([hk, "intel", "import", "-c", cfg, "--warninglists", "none", "-q",
                                 "--feed", "bench", csvp], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
            imp = time.monotonic() - t0
            if rc.returncode != 0:
                sys.exit("import of %d indicators failed: %s" % (n, rc.stderr))
            held = rc.stdout.strip().splitlines()[-1] if rc.stdout.strip() else ""
            best = None
            for _ in range(a.runs):
                for what in ("one", "all"):
                    store = []
                    if a.store:
                        w = os.path.join(tmp, "w%d" % n)
                        shutil.rmtree(w, ignore_errors=True)
                        shutil.copytree(d, w)
                        store = ["--store", w]
                    summ = os.path.join(tmp, "s.json")
                    r = run([hk, "scan", "-c", cfg] + store +
                            ["--quiet", "--format", "jsonl", "-o", os.devnull, "--summary-json",
                             summ, one if what == "one" else log])
                    if r[0] not in (0, 1):
                        sys.exit("scan failed with %d indicators" % n)
                    if what == "one":
                        load_wall, load_cpu = r[2], r[1]
                        continue
                    with open(summ) as f:
                        s = json.load(f)
                    if best is None or r[1] < best[0][1]:
                        best = (r, s, load_wall, load_cpu)
            (rc_, cpu, wall, rss), s, load_wall, load_cpu = best
            rows.append({"n": n, "import_s": imp, "held": held, "one_wall": load_wall,
                         "one_cpu": load_cpu, "cpu": cpu,
                         "wall": wall, "rss_kb": rss, "records": s.get("records"),
                         "alerts": s.get("alerts")})
            shutil.rmtree(os.path.join(tmp, "w%d" % n), ignore_errors=True)
        base = rows[0]
        print("records: %d (hikeshi-gen seed 1), scan -c CONFIG%s, best of %d by CPU time%s"
              % (a.records, " --store" if a.store else "", a.runs,
                 ", %d URL patterns in each non-empty set" % a.url_patterns
                 if a.url_patterns else ""))
        print("%10s %9s %8s %8s %8s %12s %6s %12s %6s %8s %9s %8s" %
              ("indicators", "import_s", "load_s", "cpu_s", "wall_s", "records/s", "ratio",
               "loaded r/s", "ratio", "alerts", "rss_MB", "B/ind"))
        for r in rows:
            rate = r["records"] / r["cpu"] if r["cpu"] else 0
            brate = base["records"] / base["cpu"] if base["cpu"] else 0
            # once loaded: the load's CPU (one-line scan minus N = 0's) taken out
            lcpu = r["cpu"] - max(0.0, r["one_cpu"] - base["one_cpu"])
            lrate = r["records"] / lcpu if lcpu > 0 else 0
            held_n = r["n"] + (a.url_patterns if r["n"] else 0)  # patterns count too
            per = ((r["rss_kb"] - base["rss_kb"]) * 1024 / held_n) if r["n"] and base["n"] == 0 else 0
            print("%10d %9.2f %8.2f %8.2f %8.2f %12.0f %6.3f %12.0f %6.3f %8s %9.1f %8.0f" %
                  (r["n"], r["import_s"], r["one_wall"] - base["one_wall"], r["cpu"], r["wall"],
                   rate, rate / brate if brate else 0, lrate, lrate / brate if brate else 0,
                   r["alerts"], r["rss_kb"] / 1024, per))
        for r in rows:
            if r["held"]:
                print("import %d: %s" % (r["n"], r["held"]))
    finally:
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
