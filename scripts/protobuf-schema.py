#!/usr/bin/env python3
"""Writes src/Podnet.ApiServer/Http/protobuf.schema.json: the Kubernetes protobuf wire format of
every message the API server may read or write, from upstream's k8s.io/api and
k8s.io/apimachinery sources. Run by hand at development time (nothing is downloaded at build
time); the output is checked in and embedded in the server.

    scripts/protobuf-schema.py API_GIT_DIR APIMACHINERY_GIT_DIR > src/Podnet.ApiServer/Http/protobuf.schema.json

Both directories are git directories (bare mirrors are fine): files are read with `git show
HEAD:path`. Facts used: from each `generated.proto`, the messages, field numbers, types,
repeated and map fields, and the `+protobuf.nullable` / `+protobuf.as` markers; from the Go
`types.go` beside it, what the wire format does not say but JSON needs: the JSON name, whether
the field is a pointer (present even when zero), `omitempty`, and embedded (inline) structs.
"""
import json
import re
import subprocess
import sys

# Messages the server serves (kind -> message) and the ones it needs besides. The closure of
# their field types is written out.
KINDS = {
    "v1/Namespace": "k8s.io.api.core.v1.Namespace",
    "v1/Node": "k8s.io.api.core.v1.Node",
    "v1/Pod": "k8s.io.api.core.v1.Pod",
    "v1/Service": "k8s.io.api.core.v1.Service",
    "v1/Endpoints": "k8s.io.api.core.v1.Endpoints",
    "v1/ConfigMap": "k8s.io.api.core.v1.ConfigMap",
    "v1/Secret": "k8s.io.api.core.v1.Secret",
    "v1/ServiceAccount": "k8s.io.api.core.v1.ServiceAccount",
    "v1/Event": "k8s.io.api.core.v1.Event",
    "v1/Binding": "k8s.io.api.core.v1.Binding",
    "discovery.k8s.io/v1/EndpointSlice": "k8s.io.api.discovery.v1.EndpointSlice",
    "networking.k8s.io/v1/NetworkPolicy": "k8s.io.api.networking.v1.NetworkPolicy",
    "networking.k8s.io/v1/Ingress": "k8s.io.api.networking.v1.Ingress",
    "networking.k8s.io/v1/IngressClass": "k8s.io.api.networking.v1.IngressClass",
    "networking.k8s.io/v1/ServiceCIDR": "k8s.io.api.networking.v1.ServiceCIDR",
    "networking.k8s.io/v1/IPAddress": "k8s.io.api.networking.v1.IPAddress",
    "apps/v1/Deployment": "k8s.io.api.apps.v1.Deployment",
    "apps/v1/ReplicaSet": "k8s.io.api.apps.v1.ReplicaSet",
    "apps/v1/StatefulSet": "k8s.io.api.apps.v1.StatefulSet",
    "apps/v1/DaemonSet": "k8s.io.api.apps.v1.DaemonSet",
    "apps/v1/ControllerRevision": "k8s.io.api.apps.v1.ControllerRevision",
    "coordination.k8s.io/v1/Lease": "k8s.io.api.coordination.v1.Lease",
    "rbac.authorization.k8s.io/v1/Role": "k8s.io.api.rbac.v1.Role",
    "rbac.authorization.k8s.io/v1/ClusterRole": "k8s.io.api.rbac.v1.ClusterRole",
    "rbac.authorization.k8s.io/v1/RoleBinding": "k8s.io.api.rbac.v1.RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "k8s.io.api.rbac.v1.ClusterRoleBinding",
    "policy/v1/PodDisruptionBudget": "k8s.io.api.policy.v1.PodDisruptionBudget",
    "policy/v1/Eviction": "k8s.io.api.policy.v1.Eviction",
    "autoscaling/v1/Scale": "k8s.io.api.autoscaling.v1.Scale",
    "authentication.k8s.io/v1/TokenRequest": "k8s.io.api.authentication.v1.TokenRequest",
    "authentication.k8s.io/v1/TokenReview": "k8s.io.api.authentication.v1.TokenReview",
    "authentication.k8s.io/v1/SelfSubjectReview": "k8s.io.api.authentication.v1.SelfSubjectReview",
    "authorization.k8s.io/v1/SubjectAccessReview": "k8s.io.api.authorization.v1.SubjectAccessReview",
    "authorization.k8s.io/v1/SelfSubjectAccessReview": "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
    "authorization.k8s.io/v1/LocalSubjectAccessReview": "k8s.io.api.authorization.v1.LocalSubjectAccessReview",
    "authorization.k8s.io/v1/SelfSubjectRulesReview": "k8s.io.api.authorization.v1.SelfSubjectRulesReview",
}
META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# meta/v1 kinds, written under every group version as upstream does (Status, DeleteOptions, ...).
# Discovery (APIVersions, APIGroupList, APIResourceList) is left out: the server answers it in
# JSON whatever the Accept header says, which every client's discovery reads.
META_KINDS = ["Status", "DeleteOptions", "WatchEvent", "PartialObjectMetadata", "PartialObjectMetadataList", "List"]

API_PACKAGES = ["core/v1", "apps/v1", "discovery/v1", "networking/v1", "coordination/v1", "rbac/v1",
                "policy/v1", "autoscaling/v1", "authentication/v1", "authorization/v1"]
MACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/api/resource", "pkg/runtime", "pkg/util/intstr"]

SCALARS = {"string", "bytes", "bool", "int32", "int64", "double", "float"}


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def parse_proto(text):
    """{message: {"fields": [...], "nullable": bool, "as": str}} of one generated.proto."""
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    messages = {}
    markers = []
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            markers.append(stripped)
            continue
        m = re.match(r"message (\w+) \{", stripped)
        if m:
            current = {"fields": [],
                       "nullable": any("+protobuf.nullable=true" in x for x in markers),
                       "as": next((x.split("=", 1)[1] for x in markers if x.startswith("// +protobuf.as=")), None)}
            messages[package + "." + m.group(1)] = current
            markers = []
            continue
        if not stripped:
            markers = []
            continue
        m = re.match(r"(optional|repeated) ([\w.]+) (\w+) = (\d+);", stripped)
        mm = re.match(r"map<(\w+), ([\w.]+)> (\w+) = (\d+);", stripped)
        if m:
            label, typ, name, num = m.groups()
            current["fields"].append({"n": int(num), "proto": name, "type": qualify(typ, package), "rep": label == "repeated"})
        elif mm:
            key, typ, name, num = mm.groups()
            assert key == "string", stripped
            current["fields"].append({"n": int(num), "proto": name, "type": qualify(typ, package), "map": True})
        markers = []
    return messages


def qualify(typ, package):
    if typ in SCALARS:
        return typ
    if typ.startswith("."):
        return typ[1:]
    return package + "." + typ


GO_FIELD = re.compile(r'^\t(?:(\w+)\s+)?([\w.\[\]*]+)\s+`([^`]*)`')


def parse_go(text):
    """{struct: {field number: {"json", "omitempty", "ptr", "inline"}}} of one Go file."""
    structs = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^type (\w+) struct \{", line)
        if m:
            current = structs.setdefault(m.group(1), {})
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is None:
            continue
        m = GO_FIELD.match(line)
        if not m:
            continue
        name, gotype, tag = m.groups()
        pb = re.search(r'protobuf:"([^"]*)"', tag)
        js = re.search(r'json:"([^"]*)"', tag)
        if not pb:
            continue
        # Keyed by field number: an embedded struct's tag may have no name= (`protobuf:"bytes,1,req"`).
        tag_parts = pb.group(1).split(",")
        if len(tag_parts) < 2 or not tag_parts[1].isdigit():
            continue
        proto_name = int(tag_parts[1])
        parts = (js.group(1) if js else "").split(",")
        current[proto_name] = {
            "json": parts[0],
            "omitempty": "omitempty" in parts[1:],
            "ptr": gotype.startswith("*"),
            # An embedded struct keeps its JSON name unless the tag has none (`json:",inline"`, `json:""`).
            "inline": parts[0] == "",
        }
    return structs


def load(repo, packages, prefix):
    messages, go = {}, {}
    for pkg in packages:
        messages.update(parse_proto(git(repo, "show", f"HEAD:{pkg}/generated.proto")))
        proto_package = prefix + pkg.replace("/", ".")
        for f in git(repo, "ls-tree", "--name-only", f"HEAD:{pkg}").split():
            if f.endswith(".go") and not f.endswith("_test.go") and not f.startswith("zz_") and "generated" not in f:
                for struct, fields in parse_go(git(repo, "show", f"HEAD:{pkg}/{f}")).items():
                    go.setdefault(proto_package + "." + struct, {}).update(fields)
    return messages, go


def main():
    api, machinery = sys.argv[1], sys.argv[2]
    messages, go = load(api, API_PACKAGES, "k8s.io.api.")
    m2, g2 = load(machinery, MACHINERY_PACKAGES, "k8s.io.apimachinery.")
    messages.update(m2)
    go.update(g2)

    kinds = dict(KINDS)
    for kind in list(KINDS):
        if kind.split("/")[-1] not in ("Binding", "Eviction", "Scale", "TokenRequest", "TokenReview", "SelfSubjectReview") and "Review" not in kind:
            kinds[kind + "List"] = KINDS[kind] + "List"
    for k in META_KINDS:
        kinds["meta/" + k] = META + k
    # Table is not in the protos (upstream serves it as JSON or YAML only); runtime.Unknown, the
    # envelope, is read and written in code.
    roots = list(kinds.values())

    out, seen, todo = {}, set(), [r for r in roots if r in messages]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        msg = messages[name]
        fields = []
        for f in msg["fields"]:
            info = go.get(name, {}).get(f["n"], {})
            field = {"n": f["n"], "json": info.get("json") or f["proto"], "type": f["type"]}
            for flag in ("rep", "map"):
                if f.get(flag):
                    field[flag] = True
            if info.get("ptr"):
                field["ptr"] = True
            if info.get("inline"):
                field["inline"] = True
            if info and not info.get("omitempty") and not info.get("ptr"):
                field["always"] = True
            fields.append(field)
            if f["type"] not in SCALARS:
                todo.append(f["type"])
        entry = {"fields": fields}
        if msg["nullable"]:
            entry["slice"] = True
        out[name] = entry

    missing = [k for k, v in kinds.items() if v not in out]
    kinds = {k: v for k, v in kinds.items() if v in out}
    doc = {
        "source": {
            "k8s.io/api": git(api, "rev-parse", "HEAD").strip(),
            "k8s.io/apimachinery": git(machinery, "rev-parse", "HEAD").strip(),
        },
        "kinds": dict(sorted(kinds.items())),
        "messages": dict(sorted(out.items())),
    }
    if missing:
        print("not in the protos: " + ", ".join(missing), file=sys.stderr)
    # One message a line: reviewable diffs after an upgrade.
    lines = ["{"]
    lines.append(f'  "source": {json.dumps(doc["source"])},')
    lines.append('  "kinds": {')
    lines.append(",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in doc["kinds"].items()))
    lines.append("  },")
    lines.append('  "messages": {')
    lines.append(",\n".join(f"    {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in doc["messages"].items()))
    lines.append("  }")
    lines.append("}")
    print("\n".join(lines))


main()
