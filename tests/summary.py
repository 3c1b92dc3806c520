"""Reads meson's testlog.json files and prints one plain closing line:
'N passed, N failed' (skips are listed separately and never counted as
passes).  Exits 1 if any test failed, was skipped or is missing."""

import json
import sys


def main():
    passed, failed, skipped = 0, [], []
    for path in sys.argv[1:]:
        build = path.split("/")[0]
        with open(path) as f:
            for line in f:
                t = json.loads(line)
                name = "%s:%s" % (build, t["name"])
                if t["result"] == "OK":
                    passed += 1
                elif t["result"] == "SKIP":
                    skipped.append(name)
                else:
                    failed.append("%s (%s)" % (name, t["result"]))
    for name in failed:
        print("failed: " + name)
    for name in skipped:
        print("skipped (counted as failed): " + name)
    failed += skipped
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
