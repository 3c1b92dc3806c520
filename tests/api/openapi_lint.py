"""The API description passes Redocly's linter (issue 21).

`redocly lint` (@redocly/cli, the exact version of tests/api/package-lock.json,
installed by `npm ci` in tests/api: ./dev.sh test does it) over
src/api/openapi.json, the document the daemon serves at
/api/v1/openapi.json: no error and no warning of the recommended ruleset.
Runs offline (no telemetry, no update check).  Without tests/api/node_modules
the test FAILS saying so."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HIKESHI_SOURCE", os.path.join(HERE, "..", ".."))
REDOCLY = os.path.join(HERE, "node_modules", ".bin", "redocly")
DOC = os.path.join(SOURCE, "src", "api", "openapi.json")


def main():
    if not os.path.exists(REDOCLY):
        print("FAIL - no %s: run `npm ci` in tests/api (./dev.sh test does)" % REDOCLY)
        sys.exit(1)
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_COLOR="1")
    r = subprocess.run([REDOCLY, "lint", "--format=stylish", DOC], capture_output=True,
                       text=True, env=env, timeout=240)
    out = (r.stdout + r.stderr).strip()
    print(out)
    problems = [l for l in out.splitlines() if " error " in l or " warning " in l]
    if r.returncode != 0 or problems:
        print("FAIL - redocly lint %s: exit %d, %d problems" % (DOC, r.returncode, len(problems)))
        sys.exit(1)
    print("ok   - redocly lint %s: valid, no warnings" % DOC)


if __name__ == "__main__":
    main()
