"""`hikeshi rules test`: one Sigma rule against records, explained.  A
shipped rule against a matching and a non-matching sshd line (exit 0 / 1,
identifiers, items and the verdict named), a record of another log source,
a refused rule (exit 2, FILE:LINE:COL), --json, standard input, and a
SigmaHQ rule against its own regression sample, as JSON and as EVTX."""

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
    finish()


if __name__ == "__main__":
    main()
