"""End to end: indicators out (issue 20, "Export and sharing").

- Three feeds are imported (a STIX bundle with TLP 2.0 markings and
  relationships to a malware and a campaign, a STIX bundle with AMBER and
  RED, a CSV with a URL holding a quote and a backslash).
- The daemon sights one indicator in a firewall line.
- `intel export --format stix` validates, object by object and as a bundle,
  against OASIS's STIX 2.1 JSON schemas (cti-stix2-json-schemas, $refs
  resolved from the schema directory); RED never appears, AMBER only with
  --tlp-max amber; the sighting and the relationships are there.
- `--format misp` re-imports through our own MISP importer with the same
  (type, value, TLP) set; `--format csv` reads back with Python's csv.
- A TAXII 2.1 client sequence against the daemon: discovery, API root,
  collections, the objects paged with limit=2 (more/next and the
  X-TAXII-Date-Added-First/Last headers), added_after, 406 for a client
  that accepts neither TAXII's media type nor anything; RED never served,
  AMBER only to the peer allowed it; 401 without or with a bad token, 403
  for a user that is no peer.
"""

import csv
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, Daemon, check, finish, user_add, wait_for  # noqa: E402
from e2e_intel import send, ufw_line  # noqa: E402

SCHEMAS = os.path.join(SHARED, "data", "threat-intel", "cti-stix2-json-schemas", "schemas")
COLL = "365fed99-08fa-4dcd-a1b3-fb247eb41d01"
TAXII = "application/taxii+json;version=2.1"
TLP2 = {"CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}

YAML = """
data_dir: {data}
http:
  listen: 127.0.0.1:{http}
inputs:
  - name: fw
    type: syslog-udp
    listen: 127.0.0.1:{port}
intel:
  identity: "CSIRT Example"
  peers:
    - name: Peer Amber
      user: peera
      tlp_max: amber
    - name: Peer Green
      user: peerg
"""

C2 = "198.51.7.10"
URL_ODD = "http://x.example/a'b\\c"


def ind(n, pattern, tlp):
    return {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--a1b2c3d4-0000-4000-8000-%012d" % n,
            "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
            "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z",
            "pattern": pattern, "confidence": 80, "object_marking_refs": [TLP2[tlp]]}


def bundle(objs):
    return {"type": "bundle", "id": "bundle--2f6b3b7e-0b4e-4a53-9d0e-6a0c7f6f7d1%d" % len(objs),
            "objects": objs}


FEED_A = bundle([
    ind(1, "[ipv4-addr:value = '%s']" % C2, "CLEAR"),
    ind(2, "[domain-name:value = 'c2.bad.example']", "GREEN"),
    {"type": "malware", "spec_version": "2.1", "id": "malware--11111111-2222-4333-8444-555555555555",
     "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
     "name": "Emotet", "is_family": True},
    {"type": "campaign", "spec_version": "2.1", "id": "campaign--11111111-2222-4333-8444-555555555556",
     "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
     "name": "Operation Example"},
    {"type": "relationship", "spec_version": "2.1",
     "id": "relationship--11111111-2222-4333-8444-555555555557",
     "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
     "relationship_type": "indicates", "source_ref": "indicator--a1b2c3d4-0000-4000-8000-000000000001",
     "target_ref": "malware--11111111-2222-4333-8444-555555555555"},
    {"type": "relationship", "spec_version": "2.1",
     "id": "relationship--11111111-2222-4333-8444-555555555558",
     "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
     "relationship_type": "indicates", "source_ref": "indicator--a1b2c3d4-0000-4000-8000-000000000001",
     "target_ref": "campaign--11111111-2222-4333-8444-555555555556"},
])
FEED_B = bundle([
    ind(3, "[ipv4-addr:value = '198.51.7.20']", "AMBER"),
    ind(4, "[ipv4-addr:value = '198.51.7.30']", "RED"),
])
FEED_C = ("type,value,tlp,confidence\n"
          "url,\"%s\",GREEN,70\n"
          "sha256,%s,AMBER+STRICT,90\n"
          "md5,%s,CLEAR,60\n") % (URL_ODD, "ab" * 32, "cd" * 16)


def intel(d, *args):
    r = subprocess.run([BIN, "intel"] + list(args) + ["-c", d.conf], capture_output=True,
                       text=True)
    return r.returncode, r.stdout, r.stderr


def listed(d):
    rc, out, _ = intel(d, "list", "--json")
    return [json.loads(l) for l in out.splitlines()] if rc == 0 else []


def validator():
    """A function validating an instance against the STIX schema of its
    type, every $ref read from the schema directory (never the network).
    Works with Debian's jsonschema 4.10 (RefResolver) and with later
    releases (referencing)."""
    import jsonschema

    docs, by_name = {}, {}
    for sub in ("common", "sdos", "sros", "observables"):
        for name in os.listdir(os.path.join(SCHEMAS, sub)):
            with open(os.path.join(SCHEMAS, sub, name)) as f:
                doc = json.load(f)
            docs[doc["$id"]] = doc
            by_name[name[:-5]] = doc
    try:
        from referencing import Registry, Resource

        def retrieve_none(uri):
            raise LookupError("no network: %s" % uri)
        reg = Registry(retrieve=retrieve_none).with_resources(
            [(k, Resource.from_contents(v)) for k, v in docs.items()])

        def make(schema):
            return jsonschema.validators.validator_for(schema)(schema, registry=reg)
    except ImportError:
        def make(schema):
            resolver = jsonschema.RefResolver(schema["$id"], schema, store=dict(docs))
            return jsonschema.validators.validator_for(schema)(schema, resolver=resolver)

    def validate(obj, kind=None):
        return [e.message for e in make(by_name[kind or obj["type"]]).iter_errors(obj)]
    return validate


def taxii(d, path, token, accept=TAXII):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http, path))
    req.add_header("Accept", accept)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, dict(e.headers), json.loads(body) if body.strip() else None


def values(objs):
    out = set()
    for o in objs:
        if o["type"] == "indicator":
            out.add(o["pattern"])
    return out


def main():
    d = Daemon(YAML)
    for i, (name, text) in enumerate((("a.json", json.dumps(FEED_A)),
                                      ("b.json", json.dumps(FEED_B)), ("c.csv", FEED_C))):
        p = os.path.join(d.dir, name)
        with open(p, "w") as f:
            f.write(text)
        rc, out, err = intel(d, "import", "--warninglists", "none", p)
        check(rc == 0, "import %s: %s %s" % (name, out.strip(), err.strip()))
        time.sleep(0.02)  # each feed added at its own time, for added_after
    held = {r["value"]: r for r in listed(d)}
    check(len(held) == 7, "7 indicators held: %s" % sorted(held))
    check("malware:Emotet" in held[C2]["tags"] and "campaign:Operation Example" in held[C2]["tags"],
          "the C2 address is tagged with its malware and campaign: %s" % held[C2]["tags"])

    peera = user_add(d, "peera", "viewer")
    peerg = user_add(d, "peerg", "viewer")
    victor = user_add(d, "victor", "viewer")
    ana = user_add(d, "ana", "analyst")
    d.start()
    send(d, ufw_line("10.0.0.5", C2))
    check(wait_for(lambda: any(r["value"] == C2 and r["sightings"] >= 1 for r in listed(d)),
                   timeout=20), "the daemon sighted the C2 address")

    # ---- STIX ----------------------------------------------------------
    validate = validator()
    out_path = os.path.join(d.dir, "export.json")
    rc, out, err = intel(d, "export", "--format", "stix", "--tlp-max", "amber+strict",
                         "-o", out_path)
    check(rc == 0 and "6 indicators exported, 1 withheld" in err, "export stix: %s" % err.strip())
    with open(out_path) as f:
        b = json.load(f)
    errs = validate(b, "bundle")
    check(not errs, "the bundle validates against bundle.json: %s" % errs[:3])
    bad = [(o["type"], o["id"], validate(o)) for o in b["objects"]]
    bad = [x for x in bad if x[2]]
    check(not bad, "every object validates against its STIX 2.1 schema: %s" % bad[:3])
    kinds = {}
    for o in b["objects"]:
        kinds[o["type"]] = kinds.get(o["type"], 0) + 1
    check(kinds.get("indicator") == 6 and kinds.get("identity") == 1, "6 indicators, our identity: %s" % kinds)
    check(not any("198.51.7.30" in o.get("pattern", "") for o in b["objects"]),
          "the RED indicator is not exported")
    check(not any(TLP2["RED"] in o.get("object_marking_refs", []) for o in b["objects"]),
          "no object is marked RED")
    pats = values(b["objects"])
    check("[url:value = 'http://x.example/a\\'b\\\\c']" in pats,
          "the quote and the backslash in a value are escaped in its pattern: %s" % sorted(pats))
    c2 = [o for o in b["objects"] if o.get("pattern") == "[ipv4-addr:value = '%s']" % C2]
    check(len(c2) == 1 and c2[0]["object_marking_refs"] == [TLP2["CLEAR"]],
          "the C2 indicator carries TLP:CLEAR's marking id")
    sg = [o for o in b["objects"] if o["type"] == "sighting"]
    check(len(sg) == 1 and sg[0]["sighting_of_ref"] == c2[0]["id"] and sg[0]["count"] >= 1,
          "a sighting object for the sighted indicator: %s" % sg)
    rels = {(o["source_ref"], o["target_ref"].split("--")[0]) for o in b["objects"]
            if o["type"] == "relationship"}
    check((c2[0]["id"], "malware") in rels and (c2[0]["id"], "campaign") in rels,
          "relationships from the C2 indicator to its malware and campaign: %s" % rels)
    # The default is GREEN: neither AMBER nor AMBER+STRICT.
    rc, out, err = intel(d, "export")
    g = json.loads(out)
    check(rc == 0 and len([o for o in g["objects"] if o["type"] == "indicator"]) == 4,
          "the default export holds the 4 CLEAR and GREEN indicators: %s" % err.strip())
    rc, out, err = intel(d, "export", "--tlp-max", "amber")
    a = json.loads(out)
    pa = values(a["objects"])
    check(rc == 0 and "[ipv4-addr:value = '198.51.7.20']" in pa and len(pa) == 5,
          "--tlp-max amber adds the AMBER one, not AMBER+STRICT: %d" % len(pa))
    rc, out, err = intel(d, "export", "--tlp-max", "red")
    check(rc == 2 and "RED is never exported" in err, "--tlp-max red is refused: %s" % err.strip())

    # ---- MISP round trip ----------------------------------------------
    misp_path = os.path.join(d.dir, "export.misp.json")
    rc, out, err = intel(d, "export", "--format", "misp", "--tlp-max", "amber+strict",
                         "-o", misp_path)
    check(rc == 0, "export misp: %s" % err.strip())
    d2 = Daemon(YAML)
    rc, out, err = intel(d2, "import", "--warninglists", "none", misp_path)
    check(rc == 0 and "6 indicators imported, 0 refused" in out,
          "our MISP importer reads our MISP export: %s %s" % (out.strip(), err.strip()))
    want = {(r["type"], r["value"], r["tlp"]) for r in listed(d) if r["tlp"] != "RED"}
    got = {(r["type"], r["value"], r["tlp"]) for r in listed(d2)}
    check(got == want, "the same indicators, types and TLPs come back: %s" % (got ^ want))
    tags = {r["value"]: r["tags"] for r in listed(d2)}
    check("malware:Emotet" in tags.get(C2, ""), "the malware tag comes back: %s" % tags.get(C2))

    # ---- CSV -----------------------------------------------------------
    rc, out, err = intel(d, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    check(rc == 0 and len(rows) == 4 and URL_ODD in [r["value"] for r in rows],
          "CSV: 4 rows, the odd URL read back whole: %s" % [r["value"] for r in rows])

    # ---- --incident: only what the incident's alerts matched ------------
    def c2_alert():
        con = sqlite3.connect(os.path.join(d.data, "hikeshi.db"))
        try:
            for agg, f in con.execute("SELECT agg_id, fields FROM alerts WHERE agg_id IS NOT NULL"):
                if C2 in (f or "") and "threat.indicator.value" in (f or ""):
                    return agg
        finally:
            con.close()
        return None
    check(wait_for(lambda: c2_alert() is not None, timeout=20),
          "the C2 sighting raised an alert carrying threat.indicator.*")
    agg = c2_alert()
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/v1/alerts/bulk" % d.http, method="POST",
        data=json.dumps({"action": "open_incident", "ids": [agg], "title": "C2 seen"}).encode(),
        headers={"Authorization": "Bearer " + ana, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        inc = json.loads(r.read())["incident"]
    rc, out, err = intel(d, "export", "--incident", str(inc), "--format", "csv",
                         "--tlp-max", "amber+strict")
    rows = list(csv.DictReader(io.StringIO(out)))
    check(rc == 0 and [(r["type"], r["value"]) for r in rows] == [("ipv4", C2)],
          "--incident %s exports exactly the C2 indicator (csv): %s %s" % (inc, rows, err.strip()))
    rc, out, err = intel(d, "export", "--incident", str(inc))
    pi = [o["pattern"] for o in json.loads(out)["objects"] if o["type"] == "indicator"] \
        if rc == 0 else []
    check(pi == ["[ipv4-addr:value = '%s']" % C2],
          "--incident %s exports exactly the C2 indicator (stix): %s" % (inc, pi))
    rc, out, err = intel(d, "export", "--incident", str(inc), "--format", "misp")
    attrs = json.loads(out)["Event"].get("Attribute", []) if rc == 0 else []
    check([a["value"] for a in attrs] == [C2],
          "--incident %s exports exactly the C2 indicator (misp): %s" % (inc, attrs))
    rc, out, err = intel(d, "export", "--incident", str(inc + 1000), "--format", "csv")
    check(rc == 0 and list(csv.DictReader(io.StringIO(out))) == [],
          "an incident without alerts exports nothing: %s" % err.strip())
    rc, out, err = intel(d, "export", "--incident", "x")
    check(rc == 2 and "not an incident number" in err, "--incident x is refused: %s" % err.strip())

    # ---- TAXII 2.1 -----------------------------------------------------
    st, h, body = taxii(d, "/taxii2/", None)
    check(st == 401, "discovery without a token: 401 (%s)" % st)
    st, h, body = taxii(d, "/taxii2/", "hks_not_a_token")
    check(st == 401, "discovery with a bad token: 401 (%s)" % st)
    st, h, body = taxii(d, "/taxii2/", peerg)
    check(st == 200 and h.get("Content-Type") == TAXII and body["api_roots"] == ["/taxii2/hikeshi/"]
          and body["title"] == "CSIRT Example", "discovery: %s %s" % (st, body))
    st, h, body = taxii(d, "/taxii2/", peerg, accept="text/html")
    check(st == 406, "discovery for a client accepting only text/html: 406 (%s)" % st)
    st, h, body = taxii(d, "/taxii2/", peerg, accept="*/*")
    check(st == 200, "discovery for a client accepting anything (curl's */*): 200 (%s)" % st)
    st, h, body = taxii(d, "/taxii2/hikeshi/", peerg)
    check(st == 200 and TAXII in body["versions"], "API root: %s" % body)
    st, h, body = taxii(d, "/taxii2/hikeshi/collections/", victor)
    check(st == 403, "a user that is no peer: 403 (%s)" % st)
    st, h, body = taxii(d, "/taxii2/hikeshi/collections/", peerg)
    check(st == 200 and [c["id"] for c in body["collections"]] == [COLL]
          and body["collections"][0]["can_read"] and not body["collections"][0]["can_write"],
          "collections: %s" % body)
    st, h, body = taxii(d, "/taxii2/hikeshi/collections/%s/" % COLL, peerg)
    check(st == 200 and body["id"] == COLL, "the collection: %s" % body)

    objs_path = "/taxii2/hikeshi/collections/%s/objects/" % COLL

    def pages(token, query=""):
        got, nxt, n = [], None, 0
        while True:
            q = "?limit=2" + query + ("&next=%s" % nxt if nxt else "")
            st, h, body = taxii(d, objs_path + q, token)
            check(st == 200 and h.get("Content-Type") == TAXII, "objects page %d: %s" % (n, st))
            check(len(body["objects"]) <= 2, "a page holds at most limit=2 objects")
            if body["objects"]:
                check("X-TAXII-Date-Added-First" in h and "X-TAXII-Date-Added-Last" in h,
                      "a page names its first and last date added")
            got.append((body, h))
            n += 1
            if not body["more"] or n > 10:
                check("next" not in body, "the last page has no next")
                return got
            nxt = body["next"]

    pg = pages(peerg)
    objs = [o for body, _ in pg for o in body["objects"]]
    check(len(pg) == 2 and len(objs) == 4, "green peer: 4 objects in 2 pages of 2: %d in %d"
          % (len(objs), len(pg)))
    check(all(validate(o) == [] for o in objs), "served objects validate against the schemas")
    check(not any(TLP2["AMBER"] in o["object_marking_refs"] or TLP2["RED"] in o["object_marking_refs"]
                  for o in objs), "the green peer is served neither AMBER nor RED")
    pa = pages(peera)
    objs_a = [o for body, _ in pa for o in body["objects"]]
    check(len(objs_a) == 5 and "[ipv4-addr:value = '198.51.7.20']" in values(objs_a),
          "the amber peer is served the AMBER indicator too (5)")
    check(not any("198.51.7.30" in o["pattern"] for o in objs_a), "RED is never served")
    check(not any(TLP2["AMBER+STRICT"] in o["object_marking_refs"] for o in objs_a),
          "AMBER+STRICT is not served to a peer allowed AMBER")
    # added_after: the date the first feed's objects were added.
    first_last = pg[0][1]["X-TAXII-Date-Added-First"]
    st, h, body = taxii(d, objs_path + "?added_after=" + first_last, peera)
    later = values(body["objects"])
    check(st == 200 and "[ipv4-addr:value = '%s']" % C2 not in later and
          "[ipv4-addr:value = '198.51.7.20']" in later and len(later) == 3,
          "added_after the first feed: only the later feeds' indicators: %s" % sorted(later))
    st, h, body = taxii(d, objs_path + "?added_after=yesterday", peera)
    check(st == 400, "a bad added_after: 400")
    d.stop()
    finish()


if __name__ == "__main__":
    main()
