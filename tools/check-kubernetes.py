#!/usr/bin/env python3
"""Checks deploy/kubernetes/ offline (no cluster): every document parses as YAML and has the fields
its kind requires, and the pieces fit together — the Job is Indexed with parallelism = completions
= the N of `--shard auto/N`, its ConfigMaps exist, the Prometheus annotations name the port that
`--metrics-listen` serves, the Service selects the responder's pods and its named port is the one
the Job's --server reads, every image is the same. Exits non-zero with one line per problem."""
import glob
import os
import re
import sys

import yaml

root = os.path.join(os.path.dirname(__file__), "..", "deploy", "kubernetes")
problems = []
docs = []
for path in sorted(glob.glob(os.path.join(root, "*.yaml"))):
    try:
        for doc in yaml.safe_load_all(open(path)):
            if doc is not None:
                docs.append((os.path.basename(path), doc))
    except yaml.YAMLError as error:
        problems.append(f"{path}: not YAML: {error}")

KINDS = {("v1", "ConfigMap"), ("v1", "Service"), ("apps/v1", "Deployment"), ("batch/v1", "Job")}
by_kind = {}
for name, doc in docs:
    kind = (doc.get("apiVersion"), doc.get("kind"))
    if kind not in KINDS:
        problems.append(f"{name}: unexpected apiVersion/kind {kind}")
        continue
    meta = doc.get("metadata") or {}
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(meta.get("name", ""))):
        problems.append(f"{name}: {kind[1]} without a valid metadata.name")
    by_kind.setdefault(kind[1], []).append((name, doc))


def containers(doc):
    spec = doc["spec"]["template"]["spec"]
    if not spec.get("containers"):
        problems.append(f"{doc['metadata']['name']}: no containers")
        return []
    for container in spec["containers"]:
        for field in ("name", "image"):
            if not container.get(field):
                problems.append(f"{doc['metadata']['name']}: a container without {field}")
    return spec["containers"]


configmaps = {doc["metadata"]["name"]: doc for _, doc in by_kind.get("ConfigMap", [])}
images = set()
for name, job in by_kind.get("Job", []):
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed":
        problems.append(f"{name}: the Job must have completionMode: Indexed")
    if spec.get("parallelism") != spec.get("completions"):
        problems.append(f"{name}: parallelism {spec.get('parallelism')} != completions {spec.get('completions')}")
    if spec["template"]["spec"].get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append(f"{name}: a Job's pods need restartPolicy Never or OnFailure")
    annotations = spec["template"].get("metadata", {}).get("annotations", {})
    for container in containers(job):
        images.add(container["image"])
        text = " ".join(container.get("command", []) + container.get("args", []))
        shard = re.search(r"--shard auto/(\d+)", text)
        if not shard or int(shard.group(1)) != spec.get("completions"):
            problems.append(f"{name}: --shard auto/N must give N = completions ({spec.get('completions')})")
        listen = re.search(r"--metrics-listen [^ ]*:(\d+)", text)
        if annotations.get("prometheus.io/scrape") != "true" or not listen \
                or annotations.get("prometheus.io/port") != listen.group(1):
            problems.append(f"{name}: prometheus.io/scrape and prometheus.io/port must match --metrics-listen")
        ports = [p.get("containerPort") for p in container.get("ports", [])]
        if listen and int(listen.group(1)) not in ports:
            problems.append(f"{name}: the metrics port {listen.group(1)} is not a containerPort")
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref and (ref["name"] not in configmaps or ref["key"] not in configmaps[ref["name"]].get("data", {})):
                problems.append(f"{name}: env {env['name']} reads {ref['name']}/{ref['key']}, which no ConfigMap has")
        for variable in re.findall(r"\$\{?([A-Z_]+)_SERVICE_(?:HOST|PORT_([A-Z_]+))", text):
            service = variable[0].lower().replace("_", "-")
            if not any(doc["metadata"]["name"] == service for _, doc in by_kind.get("Service", [])):
                problems.append(f"{name}: --server reads the Service {service}, which is not defined")
    for volume in spec["template"]["spec"].get("volumes", []):
        if "configMap" in volume and volume["configMap"]["name"] not in configmaps:
            problems.append(f"{name}: volume {volume['name']} reads ConfigMap {volume['configMap']['name']}, not defined")
if not by_kind.get("Job"):
    problems.append("no Job")

deployments = {doc["metadata"]["name"]: doc for _, doc in by_kind.get("Deployment", [])}
for name, deployment in deployments.items():
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in selector.items()):
        problems.append(f"{name}: the selector does not match the pod labels")
    for container in containers(deployment):
        images.add(container["image"])
for name, service in by_kind.get("Service", []):
    selector = service["spec"].get("selector", {})
    matched = [d for d in deployments.values()
               if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
    if not matched:
        problems.append(f"{name}: Service {service['metadata']['name']} selects no Deployment's pods")
    for port in service["spec"].get("ports", []):
        named = [p.get("name") for d in matched for c in d["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])]
        if isinstance(port.get("targetPort"), str) and port["targetPort"] not in named:
            problems.append(f"{name}: targetPort {port['targetPort']} is no container port's name")
if len(images) > 1:
    problems.append(f"the manifests name several images: {sorted(images)}")

for problem in problems:
    print("check-kubernetes: " + problem, file=sys.stderr)
print(f"check-kubernetes: {len(docs)} manifests, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
