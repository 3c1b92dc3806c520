"""`hikeshi rules test`: one Sigma rule against records, explained.  A
shipped rule against a matching and a non-matching sshd line (exit 0 / 1,
identifiers, items and the verdict named), a record of another log source,
a refused rule (exit 2, FILE:LINE:COL), --json, standard input, and a
SigmaHQ rule against its own regression sample, as JSON and as EVTX.

Cloud, SaaS and macOS sources: for each, a SigmaHQ rule matches the
hand-written records of tests/data/sources/NAME.match.jsonl and not the
benign records of the same source (which its log source still applies to),
and each record routes to its own source only; scan gives their alerts the
records' own times, and a filter rule removes the matches it excludes.

`hikeshi rules check`: a rule whose log source the map does not know is a
warning with the missing triple (exit 0, or 1 under --strict), in text and
--json; filter rules load, and one that names no checked rule or keeps
rather than excludes is warned of."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SHARED, SOURCE, check, finish  # noqa: E402

# Real lines: the first two from loghub OpenSSH/OpenSSH_2k.log, the third
# from Linux/Linux_2k.log (su, another program of the same host).
FAILED = ("Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster "
          "from 173.234.31.186 port 38926 ssh2")
ACCEPTED = ("Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from "
            "119.137.62.142 port 49116 ssh2")
SU = "Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)"

# SigmaHQ rule with a regression sample (REGRESSION_NOTES.md §2).
SIGMA_RULE = "rules/windows/process_creation/proc_creation_win_curl_ntlm_hash_leak_attempt.yml"
SIGMA_SAMPLE = ("regression_data/rules/windows/process_creation/"
                "proc_creation_win_curl_ntlm_hash_leak_attempt/"
                "916eb839-895e-47f8-99ee-3008bf377a3e")


def run(args, stdin=None):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120,
                          input=stdin)


def main():
    tmp = tempfile.mkdtemp(prefix="hikeshi-rules-")
    # The maps of this source tree, whatever the working directory.
    cfg = os.path.join(tmp, "hikeshi.yaml")
    with open(cfg, "w") as f:
        f.write("sigma:\n  mappings: %s\n" % os.path.join(SOURCE, "rules", "config"))
    rule = os.path.join(SOURCE, "rules", "lnx_sshd_auth_failure.yml")
    t = ["rules", "test", "-c", cfg]

    r = run(["rules", "--help"])
    check(r.returncode == 0 and "rules test" in r.stdout, "rules --help names 'rules test'")

    ev = os.path.join(tmp, "match.log")
    with open(ev, "w") as f:
        f.write(FAILED + "\n")
    r = run(t + [rule, ev])
    out = r.stdout
    check(r.returncode == 0, "matching sshd line exits 0 (%d, %s)" % (r.returncode, r.stderr))
    check("decoder sshd" in out and "applies" in out, "the event's decoder and routing shown")
    check("selection" in out and "event.outcome" in out and '"failure"' in out,
          "identifier, field and value shown")
    check("=>  MATCH" in out, "MATCH printed")

    ev2 = os.path.join(tmp, "nomatch.log")
    with open(ev2, "w") as f:
        f.write(ACCEPTED + "\n")
    r = run(t + [rule, ev2])
    out = r.stdout
    check(r.returncode == 1, "non-matching sshd line exits 1 (%d)" % r.returncode)
    check("no match" in out and "MATCH" not in out.replace("no match", ""), "'no match' printed")
    check("event.outcome = \"success\"" in out, "the event's value of the failing item is shown")
    check("selection" in out and "false" in out, "identifier shown false")

    # A record of another log source: the rule does not apply.
    ev3 = os.path.join(tmp, "su.log")
    with open(ev3, "w") as f:
        f.write(SU + "\n")
    r = run(t + [rule, ev3])
    check(r.returncode == 1 and "does NOT apply" in r.stdout and "service sshd" in r.stdout and
          'process.name "su"' in r.stdout and "decoder rfc3164" in r.stdout,
          "other log source: says what the rule wants and what the event is (%s)" %
          r.stdout.splitlines()[:1])

    # Both files: one matched, one did not -> 1.
    r = run(t + [rule, ev, ev2])
    check(r.returncode == 1 and "2 event(s), 1 matched" in r.stdout, "mixed events exit 1")

    # A refused rule: exit 2 with its position.
    bad = os.path.join(tmp, "bad.yml")
    with open(bad, "w") as f:
        f.write("title: t\nid: 5f1e6a1e-0000-4000-8000-000000000002\nlogsource:\n"
                "  product: linux\ndetection:\n  sel:\n    Image|nosuchmod: x\n"
                "  condition: sel\n")
    r = run(t + [bad, ev])
    check(r.returncode == 2 and "%s:7:" % bad in r.stderr and "nosuchmod" in r.stderr,
          "refused rule: FILE:LINE:COL, exit 2 (%s)" % r.stderr.strip())
    r = run(t + [rule])
    check(r.returncode == 2, "no EVENT file: usage error, exit 2")
    r = run(t + [rule, os.path.join(tmp, "absent.log")])
    check(r.returncode == 2 and "absent.log" in r.stderr, "unreadable EVENT file exits 2")

    # --json, from standard input: one object per event.
    r = run(t + ["--json", rule, "-"], stdin=FAILED + "\n" + ACCEPTED + "\n")
    objs = []
    try:
        objs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    except ValueError as e:
        check(False, "--json output parses (%s)" % e)
    check(r.returncode == 1 and len(objs) == 2, "--json from stdin: 2 objects, exit 1")
    if len(objs) == 2:
        a, b = objs
        check(a["file"] == "-" and a["line"] == 1 and a["decoder"] == "sshd", "json: where")
        check(a["match"] is True and b["match"] is False, "json: verdicts")
        sel = [s for s in b["searches"] if s["name"] == "selection"]
        items = sel[0]["items"] if sel else []
        oc = [i for i in items if i["field"] == "event.outcome"]
        check(bool(oc) and oc[0]["matched"] is False and oc[0]["event_value"] == "success",
              "json: the failing item with the event's value")
        check(b["condition"] == "selection" and b["substituted"] == "false",
              "json: condition and substituted condition")

    # A SigmaHQ rule against its regression sample: the JSON export (one
    # line, on stdin) and the EVTX file both match.
    srule = os.path.join(SHARED, "sigma", SIGMA_RULE)
    sample = os.path.join(SHARED, "sigma", SIGMA_SAMPLE)
    with open(sample + ".json") as f:
        line = json.dumps(json.load(f))
    r = run(t + [srule, "-"], stdin=line + "\n")
    check(r.returncode == 0 and "=>  MATCH" in r.stdout and "selection_ntlm_flag" in r.stdout and
          "decoder json" in r.stdout,
          "SigmaHQ rule matches its regression JSON event (%d, %s)" % (r.returncode, r.stderr))
    r = run(t + [srule, sample + ".evtx"])
    check(r.returncode == 0 and "decoder winxml" in r.stdout and "=>  MATCH" in r.stdout,
          "SigmaHQ rule matches its regression EVTX record (%d, %s)" % (r.returncode, r.stderr))
    # And it does not apply to a Linux line.
    r = run(t + [srule, ev])
    check(r.returncode == 1 and "does NOT apply" in r.stdout and
          "category process_creation" in r.stdout, "Windows rule does not apply to sshd line")
    sources(t, tmp)
    source_times(tmp)
    rules_check(cfg, tmp)
    finish()


# (SigmaHQ rule under rules/, sample name under tests/data/sources, the
# log-source key the records route to).
SOURCES = [
    ("cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml", "aws_cloudtrail"),
    ("cloud/azure/audit_logs/azure_change_to_authentication_method.yml", "azure_auditlogs"),
    ("cloud/azure/activity_logs/azure_keyvault_modified_or_deleted.yml", "azure_activitylogs"),
    ("cloud/azure/signin_logs/azure_account_lockout.yml", "azure_signinlogs"),
    ("identity/okta/okta_user_account_locked_out.yml", "okta"),
    ("cloud/gcp/audit/gcp_bucket_modified_or_deleted.yml", "gcp_audit"),
    ("cloud/gcp/gworkspace/login/gcp_gworkspace_suspicious_login.yml", "gworkspace_login"),
    ("application/github/audit/github_new_secret_created.yml", "github_audit"),
    ("application/kubernetes/audit/kubernetes_audit_exec_into_container.yml", "kubernetes_audit"),
    ("application/opencanary/opencanary_ftp_login_attempt.yml", "opencanary"),
    ("macos/process_creation/proc_creation_macos_base64_decode.yml", "macos_eslogger_exec"),
    ("macos/file_event/file_event_macos_susp_startup_item_created.yml",
     "macos_eslogger_create"),
]
# Sources whose records legitimately route to another's rules too: Google
# Workspace records shared with Cloud Logging are Cloud audit log entries.
ALSO_ROUTES = {"gworkspace_login": {"gcp_audit"}}


def sources(t, tmp):
    data = os.path.join(SOURCE, "tests", "data", "sources")
    rules = os.path.join(SHARED, "sigma", "rules")
    for rule, name in SOURCES:
        rp = os.path.join(rules, rule)
        m = os.path.join(data, name + ".match.jsonl")
        b = os.path.join(data, name + ".benign.jsonl")
        r = run(t + ["--json", rp, m])
        objs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        check(r.returncode == 0 and objs and all(o["match"] and o["decoder"] == "json"
                                                 for o in objs),
              "%s: %s matches every record of %s (%d, %s)" % (
                  name, os.path.basename(rule), os.path.basename(m), r.returncode,
                  r.stderr.strip()))
        r = run(t + ["--json", rp, b])
        objs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        check(r.returncode == 1 and objs and all(o["applies"] and not o["match"] for o in objs),
              "%s: the rule applies to the benign records and matches none (%d)" % (
                  name, r.returncode))
        # Routing is exclusive: no other source's rule applies to these.
        for rule2, name2 in SOURCES:
            if name2 == name or name2 in ALSO_ROUTES.get(name, set()):
                continue
            r = run(t + ["--json", os.path.join(rules, rule2), m, b])
            objs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
            if any(o["applies"] for o in objs):
                check(False, "%s records route to %s's log source too" % (name, name2))
    check(True, "each source's records route to its own log source only")

    # The unified log (log show --style ndjson) routes to product macos, as
    # eslogger does; an eslogger record is not taken for Suricata EVE (both
    # carry event_type).
    def tmp_rule(fname, logsource, sel):
        path = os.path.join(tmp, fname)
        with open(path, "w") as f:
            f.write("title: %s\nid: 5f1e6a1e-0000-4000-8000-0000000001%02d\nlogsource:\n%s"
                    "detection:\n  sel:\n%s  condition: sel\n" % (
                        fname, len(fname), logsource, sel))
        return path
    mac = tmp_rule("mac.yml", "  product: macos\n", "    processImagePath: /usr/sbin/sshd\n")
    r = run(t + [mac, os.path.join(data, "macos_unifiedlog.jsonl")])
    check(r.returncode == 0, "a product macos rule matches a unified-log ndjson record (%s)" %
          r.stdout.splitlines()[:1])
    r = run(t + [mac, os.path.join(data, "aws_cloudtrail.match.jsonl")])
    check(r.returncode == 1 and "does NOT apply" in r.stdout,
          "a product macos rule does not apply to CloudTrail")
    suri = tmp_rule("suri.yml", "  product: suricata\n", "    event_type: 9\n")
    r = run(t + [suri, os.path.join(data, "macos_eslogger_exec.match.jsonl")])
    check(r.returncode == 1 and "does NOT apply" in r.stdout,
          "an eslogger record is not routed as Suricata EVE")


def source_times(tmp):
    """scan: an alert on a cloud record carries the record's own time
    (CloudTrail eventTime, Okta published, Azure time, Kubernetes
    requestReceivedTimestamp), not the time it was read."""
    data = os.path.join(SOURCE, "tests", "data", "sources")
    rules = os.path.join(SHARED, "sigma", "rules")
    cfg = os.path.join(tmp, "scan.yaml")
    with open(cfg, "w") as f:
        f.write("sigma:\n  rules: [%s, %s, %s, %s]\n  mappings: %s\n" % (
            os.path.join(rules, "cloud", "aws"), os.path.join(rules, "identity", "okta"),
            os.path.join(rules, "cloud", "azure", "activity_logs"),
            os.path.join(rules, "application", "kubernetes"),
            os.path.join(SOURCE, "rules", "config")))
    want = {"aws_cloudtrail": "2026-11-30T22:41:07", "okta": "2026-11-26T19:44:03",
            "azure_activitylogs": "2026-11-28T21:17:44", "kubernetes_audit": "2026-11-23T16:40:12"}
    # A filter rule in the daemon's path: it removes the build account's
    # StopLogging and keeps the other user's DeleteTrail.
    flt = os.path.join(tmp, "mf_trail_ops.yml")
    with open(flt, "w") as f:
        f.write("title: Filter the build account's trail changes\nlogsource:\n  product: aws\n"
                "filter:\n  rules: [4db60cc0-36fb-42b7-9b58-a5b53019fb74]\n  ops:\n"
                "    userIdentity.arn|endswith: ':user/build-bot'\n  condition: not ops\n")
    fcfg = os.path.join(tmp, "scan-filter.yaml")
    with open(fcfg, "w") as f:
        f.write("sigma:\n  rules: [%s, %s]\n  mappings: %s\n" % (
            os.path.join(rules, "cloud", "aws", "cloudtrail", "aws_cloudtrail_disable_logging.yml"),
            flt, os.path.join(SOURCE, "rules", "config")))
    for c, n in ((cfg, 2), (fcfg, 1)):
        r = run(["scan", "-c", c, "-q", "-f", "jsonl",
                 os.path.join(data, "aws_cloudtrail.match.jsonl")])
        hits = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        hits = [h for h in hits if "4db60cc0-36fb-42b7-9b58-a5b53019fb74" in json.dumps(h)]
        check(r.returncode == 0 and len(hits) == n,
              "scan: CloudTrail disable-logging alerts %s the filter: %d (want %d)" % (
                  "with" if c == fcfg else "without", len(hits), n))
    for name, ts in sorted(want.items()):
        r = run(["scan", "-c", cfg, "-q", "-f", "jsonl",
                 os.path.join(data, name + ".match.jsonl")])
        times = []
        for line in r.stdout.splitlines():
            try:
                times.append(json.loads(line).get("@timestamp", ""))
            except ValueError:
                pass
        check(r.returncode == 0 and times and times[0].startswith(ts),
              "%s: the alert has the record's time %s (%s)" % (name, ts, times[:1]))


def rules_check(cfg, tmp):
    """rules check: unroutable rules are warnings, --strict fails on them."""
    d = os.path.join(tmp, "check")
    os.makedirs(d)
    with open(os.path.join(d, "mapped.yml"), "w") as f:
        f.write("title: Mapped\nid: 5f1e6a1e-0000-4000-8000-000000000201\nlogsource:\n"
                "  product: linux\n  service: sshd\ndetection:\n  sel:\n"
                "    event.outcome: failure\n  condition: sel\n")
    with open(os.path.join(d, "unmapped.yml"), "w") as f:
        f.write("title: Unmapped\nid: 5f1e6a1e-0000-4000-8000-000000000202\nlogsource:\n"
                "  product: bitbucket\n  service: audit\ndetection:\n  sel:\n"
                "    auditType.action: x\n  condition: sel\n")
    chk = ["rules", "check", "-c", cfg]
    r = run(chk + [d])
    out = r.stdout
    unm = os.path.join(d, "unmapped.yml")
    check(r.returncode == 0, "rules check: warnings alone exit 0 (%d, %s)" % (
        r.returncode, r.stderr.strip()))
    check(("%s: warning:" % unm) in out and "product bitbucket, service audit" in out and
          "never evaluated" in out, "the unroutable rule is warned of with its triple (%s)" %
          out.strip())
    check(os.path.join(d, "mapped.yml") not in out, "the mapped rule is not warned of")
    check("2 rule file(s): 2 loaded" in out and "1 rule(s) never evaluated" in out,
          "the summary counts the rule never evaluated (%s)" % out.strip().splitlines()[-1:])
    r = run(chk + ["--strict", d])
    check(r.returncode == 1, "rules check --strict: a warning fails (%d)" % r.returncode)
    r = run(chk + ["--strict", os.path.join(d, "mapped.yml")])
    check(r.returncode == 0, "rules check --strict: a mapped rule alone passes (%d, %s)" % (
        r.returncode, r.stdout.strip()))
    r = run(chk + ["--json", d])
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    w = j.get("warnings", [])
    check(j.get("unroutable") == 1 and j.get("loaded") == 2 and len(w) == 1 and
          w[0]["kind"] == "unroutable" and w[0]["file"] == unm and
          w[0]["product"] == "bitbucket" and w[0]["service"] == "audit" and
          w[0]["category"] is None, "--json: counts and the warning (%s)" % r.stdout[:300])

    utf16_agree(cfg, tmp)

    # A filter rule loads; one that names no checked rule, or whose
    # condition has no 'not', is warned of.
    with open(os.path.join(d, "mf_ok.yml"), "w") as f:
        f.write("title: Filter build host\nlogsource:\n  product: linux\nfilter:\n"
                "  rules:\n    - 5f1e6a1e-0000-4000-8000-000000000201\n  selection:\n"
                "    host.name: build-1\n  condition: not selection\n")
    r = run(chk + ["--strict", os.path.join(d, "mapped.yml"), os.path.join(d, "mf_ok.yml")])
    check(r.returncode == 0 and "1 filter rules" in r.stdout,
          "a filter naming a checked rule loads without warnings (%s)" % r.stdout.strip())
    with open(os.path.join(d, "mf_bad.yml"), "w") as f:
        f.write("title: Filter typo\nlogsource:\n  product: linux\nfilter:\n"
                "  rules: [no-such-rule]\n  selection:\n"
                "    host.name: build-1\n  condition: selection\n")
    r = run(chk + [os.path.join(d, "mapped.yml"), os.path.join(d, "mf_bad.yml")])
    check(r.returncode == 0 and "'no-such-rule'" in r.stdout and "has no 'not'" in r.stdout,
          "a filter naming no checked rule and keeping matches is warned of (%s)" %
          r.stdout.strip())


def utf16_agree(cfg, tmp):
    """A rule whose value becomes UTF-16 without base64 (utf16be starts
    with a NUL byte, wide ends with one) beside a plain rule: rules check
    and scan agree that all three load, and the plain rule still alerts
    (once such a rule failed the whole set's prefilter)."""
    d = os.path.join(tmp, "utf16")
    os.makedirs(d)
    rules = (("plain.yml", "message|contains: 'Failed password'"),
             ("be.yml", "message|utf16be: abc"), ("le.yml", "message|wide: abc"))
    for i, (name, sel) in enumerate(rules):
        with open(os.path.join(d, name), "w") as f:
            f.write("title: U16 %s\nid: 5f1e6a1e-0000-4000-8000-00000000030%d\nlogsource:\n"
                    "  product: linux\n  service: sshd\ndetection:\n  sel:\n    %s\n"
                    "  condition: sel\n" % (name, i, sel))
    r = run(["rules", "check", "-c", cfg, d])
    check(r.returncode == 0 and "3 rule file(s): 3 loaded" in r.stdout and
          "0 refused" in r.stdout, "rules check: the UTF-16 rules load (%s)" % r.stdout.strip())
    scfg = os.path.join(tmp, "utf16.yaml")
    with open(scfg, "w") as f:
        f.write("sigma:\n  rules: [%s]\n  mappings: %s\n" % (
            d, os.path.join(SOURCE, "rules", "config")))
    ev = os.path.join(tmp, "utf16.log")
    with open(ev, "w") as f:
        f.write(FAILED + "\n")
    r = run(["scan", "-c", scfg, "-q", "-f", "jsonl", ev])
    check(r.returncode == 0 and "3 rules and 0 correlations loaded, 0 refused" in r.stderr,
          "scan loads the same 3 rules, none refused (%d, %s)" % (r.returncode,
                                                                 r.stderr.strip()))
    check("U16 plain.yml" in r.stdout and "U16 be.yml" not in r.stdout,
          "scan: the plain rule alerts beside the UTF-16 ones (%s)" % r.stdout[:300])


if __name__ == "__main__":
    main()
