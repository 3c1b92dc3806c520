#!/usr/bin/env python3
"""openapi_routes.py SOURCE_ROOT [ROUTES_C]

Keeps src/api/openapi.json true to the daemon's route table:

1. the document is valid JSON, OpenAPI 3.0.x, every operation has
   responses and a unique operationId, every $ref resolves, every {param}
   of a path is declared, and x-hikeshi-role agrees with the security
   asked for;
2. the rows {"METHOD", "PATH", AUTH_ROLE_X, fn} of the array api_routes in
   src/api/api_routes.c are read (fewer than 5 means the table moved or the
   regex no longer matches it: that is a failure, not a skip);
3. both directions: every route of the table is documented, every
   documented operation is in the table, with the same least role
   (AUTH_ROLE_NONE: no security).

Prints every difference and exits 1 if there is any, 0 otherwise.  ROUTES_C
(optional) reads another route table, for trying the test on a draft.
"""
import json
import os
import re
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ROLES = {"NONE": "none", "VIEWER": "viewer", "ANALYST": "analyst", "LEAD": "lead",
         "ADMIN": "admin"}
MIN_ROWS = 5

ROW_RE = re.compile(
    r'\{\s*"([A-Z]+)"\s*,\s*"([^"\\]+)"\s*,\s*AUTH_ROLE_([A-Z]+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,?\s*\}')
ARRAY_RE = re.compile(r'\bapi_routes\s*\[[^\]]*\]\s*=\s*\{')


def resolve(doc, pointer):
    """The node a local JSON pointer (#/a/b) names, or raises KeyError."""
    if not pointer.startswith("#/"):
        raise KeyError("not a local reference")
    node = doc
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node[part]
        else:
            raise KeyError(part)
    return node


def walk_refs(node, where, out):
    """Appends (where, target) for every $ref under node."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append((where, v))
            else:
                walk_refs(v, where + "/" + k, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, "%s/%d" % (where, i), out)


def deref(doc, node):
    """node, or what its $ref names (one level is all parameters use)."""
    if isinstance(node, dict) and "$ref" in node:
        try:
            return resolve(doc, node["$ref"])
        except (KeyError, ValueError, IndexError):
            return {}
    return node


def check_document(doc, errors):
    """Checks the document on its own; returns {(METHOD, path): role}."""
    ops = {}
    if not isinstance(doc, dict):
        errors.append("openapi.json: the top level is not an object")
        return ops
    version = doc.get("openapi")
    if not (isinstance(version, str) and re.fullmatch(r"3\.0\.\d+", version)):
        errors.append("openapi.json: \"openapi\" is %r, not 3.0.x" % (version,))
    if not isinstance(doc.get("info"), dict) or "title" not in doc["info"] or "version" not in doc["info"]:
        errors.append("openapi.json: info.title and info.version are required")

    refs = []
    walk_refs(doc, "#", refs)
    for where, target in refs:
        try:
            resolve(doc, target)
        except (KeyError, ValueError, IndexError):
            errors.append("openapi.json: %s: $ref %s does not resolve" % (where, target))

    schemes = doc.get("components", {}).get("securitySchemes", {})
    bearer = schemes.get("bearer")
    if not (isinstance(bearer, dict) and bearer.get("type") == "http"
            and str(bearer.get("scheme", "")).lower() == "bearer"):
        errors.append("openapi.json: components.securitySchemes.bearer must be http/bearer")
    default_security = doc.get("security", [])

    paths = doc.get("paths")
    if not isinstance(paths, dict) or not paths:
        errors.append("openapi.json: no paths")
        return ops
    seen_ids = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            errors.append("openapi.json: %s is not an object" % path)
            continue
        path_params = set(re.findall(r"\{([^}]+)\}", path))
        common = [deref(doc, p) for p in item.get("parameters", [])]
        for method, o in item.items():
            if method not in METHODS:
                continue
            name = "%s %s" % (method.upper(), path)
            if not isinstance(o, dict):
                errors.append("openapi.json: %s is not an object" % name)
                continue
            if not isinstance(o.get("responses"), dict) or not o["responses"]:
                errors.append("openapi.json: %s has no responses" % name)
            opid = o.get("operationId")
            if not isinstance(opid, str) or not opid:
                errors.append("openapi.json: %s has no operationId" % name)
            elif opid in seen_ids:
                errors.append("openapi.json: operationId %s is used by %s and %s" % (opid, seen_ids[opid], name))
            else:
                seen_ids[opid] = name
            params = common + [deref(doc, p) for p in o.get("parameters", [])]
            declared = {p.get("name") for p in params if isinstance(p, dict) and p.get("in") == "path"}
            for missing in sorted(path_params - declared):
                errors.append("openapi.json: %s does not declare path parameter {%s}" % (name, missing))
            for extra in sorted(declared - path_params):
                errors.append("openapi.json: %s declares path parameter %s that the path has not" % (name, extra))

            role = o.get("x-hikeshi-role")
            if role not in ROLES.values():
                errors.append("openapi.json: %s: x-hikeshi-role is %r, not one of %s"
                              % (name, role, ", ".join(sorted(ROLES.values()))))
            security = o.get("security", default_security)
            open_route = security == [] or any(s == {} for s in security)
            if role == "none" and not open_route:
                errors.append("openapi.json: %s: role none but the operation asks for a token" % name)
            if role in ("viewer", "analyst", "lead", "admin") and open_route:
                errors.append("openapi.json: %s: role %s but the operation asks for no token" % (name, role))
            ops[(method.upper(), path)] = role
    return ops


def read_routes(path, errors):
    """The rows of api_routes in the C file: {(METHOD, path): role}."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        errors.append("%s: %s" % (path, e))
        return {}
    # Commented-out rows are not routes.
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    m = ARRAY_RE.search(text)
    if not m:
        errors.append("%s: no array named api_routes (the route table moved?)" % path)
        return {}
    end = text.find("};", m.end())
    body = text[m.end():end if end >= 0 else len(text)]
    rows = ROW_RE.findall(body)
    if len(rows) < MIN_ROWS:
        errors.append("%s: found %d rows of the form {\"METHOD\", \"PATH\", AUTH_ROLE_X, fn} in api_routes, "
                      "expected at least %d (the table moved or changed shape)" % (path, len(rows), MIN_ROWS))
        return {}
    routes = {}
    for method, rpath, role, fn in rows:
        key = (method, rpath)
        if role not in ROLES:
            errors.append("%s: %s %s: unknown role AUTH_ROLE_%s" % (path, method, rpath, role))
            continue
        if key in routes:
            errors.append("%s: %s %s appears twice in api_routes" % (path, method, rpath))
        routes[key] = ROLES[role]
    return routes


def main(argv):
    if len(argv) < 2:
        print("usage: openapi_routes.py SOURCE_ROOT [ROUTES_C]", file=sys.stderr)
        return 2
    root = argv[1]
    doc_path = os.path.join(root, "src", "api", "openapi.json")
    routes_path = argv[2] if len(argv) > 2 else os.path.join(root, "src", "api", "api_routes.c")
    errors = []

    try:
        with open(doc_path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL %s: %s" % (doc_path, e))
        return 1
    documented = check_document(doc, errors)
    table = read_routes(routes_path, errors)

    if table:
        for key in sorted(table.keys() - documented.keys()):
            errors.append("in the route table, not in openapi.json: %s %s (%s)" % (key[0], key[1], table[key]))
        for key in sorted(documented.keys() - table.keys()):
            errors.append("in openapi.json, not in the route table: %s %s (%s)" % (key[0], key[1], documented[key]))
        for key in sorted(documented.keys() & table.keys()):
            if documented[key] != table[key]:
                errors.append("%s %s: openapi.json says x-hikeshi-role %s, the route table AUTH_ROLE_%s"
                              % (key[0], key[1], documented[key], table[key].upper()))

    for e in errors:
        print("FAIL " + e)
    if errors:
        print("%d difference(s); %d operations documented, %d routes in the table"
              % (len(errors), len(documented), len(table)))
        return 1
    print("ok: %d operations documented, %d routes in the table, all agree" % (len(documented), len(table)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
