#!/usr/bin/env python3
"""circles.py BUILD_DIR - no two source files of src/ call each other,
directly or round a longer loop (issue 16).

A file "calls" another when its object file needs a symbol (function or
variable) that the other's object defines: `nm` on the objects that
compile_commands.json lists for src/, so the graph is the one the linker
sees, not a guess from the text.  A circle (a strongly connected set of
two or more files) is reported with one loop through it, each step naming
a symbol that makes it, and the check fails.  Calls through a function
pointer handed down (a callback) are not edges: the lower file does not
name the upper one, which is the point.

`circles.py --self-test` compiles two small files that call each other
and checks that the circle is found, then that one-way calls pass.
"""

import json
import os
import subprocess
import sys
import tempfile


def nm_symbols(obj):
    """(defined, undefined) global symbol names of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWCG":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
    return defined, undefined


def graph(files):
    """files: {source path: object path} -> {src: {dst: [symbols]}}."""
    owner, needs = {}, {}
    for src, obj in files.items():
        defined, undefined = nm_symbols(obj)
        for s in defined:
            owner[s] = src
        needs[src] = undefined
    g = {src: {} for src in files}
    for src, undefined in needs.items():
        for s in sorted(undefined):
            dst = owner.get(s)
            if dst and dst != src:
                g[src].setdefault(dst, []).append(s)
    return g


def circles(g):
    """The strongly connected sets of two or more nodes (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def loop_through(g, comp):
    """One loop starting at comp[0], as [(file, symbol), ...] steps."""
    members = set(comp)
    start = comp[0]
    # Breadth-first from start's successors back to start, inside comp.
    prev = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(g[v]):
                if w not in members:
                    continue
                if w == start:
                    steps, cur = [(v, w)], v
                    while cur != start:
                        steps.append((prev[cur], cur))
                        cur = prev[cur]
                    steps.reverse()
                    return [(a, b, g[a][b][0]) for a, b in steps]
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return []


def objects(build):
    """{source path relative to the tree: object path} for src/*.c."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    files = {}
    for c in cmds:
        src = os.path.normpath(os.path.join(c["directory"], c["file"]))
        parts = src.split(os.sep)
        if "src" not in parts or "tests" in parts:
            continue
        rel = os.sep.join(parts[len(parts) - parts[::-1].index("src") - 1:])
        obj = os.path.join(c["directory"], c["output"])
        if os.path.exists(obj):
            files[rel] = obj
    return files


def check(files):
    g = graph(files)
    found = circles(g)
    for comp in found:
        steps = loop_through(g, comp)
        path = " -> ".join(f"{a} ({sym})" for a, b, sym in steps) + f" -> {comp[0]}"
        print(f"circle between files: {path}")
        if len(comp) > 2:
            print(f"  (the circle holds {len(comp)} files: {', '.join(comp)})")
    return 1 if found else 0


def self_test():
    with tempfile.TemporaryDirectory() as t:
        def build(name, text):
            c = os.path.join(t, name + ".c")
            o = os.path.join(t, name + ".o")
            with open(c, "w") as f:
                f.write(text)
            subprocess.run(["cc", "-c", "-o", o, c], check=True)
            return o

        a = build("a", "int b(void); int a(void) { return b(); }\n")
        b = build("b", "int a(void); int b(void) { return a(); }\n")
        c = build("c", "int c(void) { return 1; }\n")
        d = build("d", "int c(void); int d(void) { return c(); }\n")
        cases = [
            ("two files calling each other are a circle", {"src/a.c": a, "src/b.c": b}, 1),
            ("a one-way call is not", {"src/c.c": c, "src/d.c": d}, 0),
        ]
        e = build("e", "int g(void); int e(void) { return g(); }\n")
        f = build("f", "int e(void); int f(void) { return e(); }\n")
        g = build("g", "int f(void); int g(void) { return f(); }\n")
        cases.append(("a loop of three is a circle",
                      {"src/e.c": e, "src/f.c": f, "src/g.c": g}, 1))
        for what, files, want in cases:
            with open(os.devnull, "w") as null:
                saved, sys.stdout = sys.stdout, null
                try:
                    got = check(files)
                finally:
                    sys.stdout = saved
            if got != want:
                print(f"circles.py self-test: {what}: expected {want}, got {got}",
                      file=sys.stderr)
                return 1
            print(f"ok   - {what}")
    return 0


def main():
    if len(sys.argv) != 2:
        print("usage: circles.py BUILD_DIR | --self-test", file=sys.stderr)
        return 2
    if sys.argv[1] == "--self-test":
        return self_test()
    files = objects(sys.argv[1])
    if not files:
        print(f"circles: no objects of src/ under {sys.argv[1]} (build it first)",
              file=sys.stderr)
        return 1
    if check(files):
        print("circles: files of src/ call each other (see above)", file=sys.stderr)
        return 1
    print(f"circles: {len(files)} files of src/, no circle between them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
