"""Generate a large rendered bundle: Deployments with typical Linux securityContexts plus Services.

Shaped like `helm template` output (``# Source:`` comments, indented lists, quoted
strings), about 760 bytes per resource: 10,000 resources make a ~7.6 MB stream,
the size the engine issue measures against.

    python bench/generate.py --resources 10000 > bundle.yaml
    python bench/generate.py --dns > worst.yaml        # every Deployment names a Service
    python bench/generate.py --only-deployments > deployments.yaml
    python bench/generate.py --json > list.json        # one kind: List, on one line
    python bench/generate.py --json --indent 2 > list-pretty.json
"""

from __future__ import annotations

import argparse
import json
import sys

import yaml

DEPLOYMENT = """\
---
# Source: app-{i}/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i}
    spec:
      # Hardened defaults from values.yaml
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        fsGroup: 2000
        seccompProfile:
          type: RuntimeDefault
      nodeSelector:
        kubernetes.io/os: linux
      containers:
        - name: app
          image: "registry.example.com/app:{i}.0.1"
          args: ["--port=8080", "--log-level=info"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
            requests:
              cpu: 100m
              memory: 128Mi
          volumeMounts:
            - {{name: tmp, mountPath: /tmp}}{env}
      volumes: [{{name: tmp, emptyDir: {{}}}}]
"""

# The cross-resource worst case: a partially qualified Service name in every
# Deployment makes WIN201 keep each one until the end of the stream (it may name
# a Service defined later), so nothing is freed while the stream is read.
DNS_ENV = """
          env:
            - name: DATABASE_ADDRESS
              value: "postgres.team-1:5432"
"""

SERVICE = """\
---
# Source: app-{i}/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: app-{i}
"""


def bundle(resources: int, *, dns: bool = False, only_deployments: bool = False) -> str:
    """``resources`` documents: Deployments and Services alternating, or Deployments only."""
    env = DNS_ENV.rstrip("\n") if dns else ""
    parts = []
    for i in range(resources if only_deployments else resources // 2):
        parts.append(DEPLOYMENT.format(i=i, ns=i % 17, env=env))
        if not only_deployments:
            parts.append(SERVICE.format(i=i, ns=i % 17))
    return "".join(parts)


def json_list(resources: int, indent: int | None = None) -> str:
    """The bundle's resources as one ``kind: List`` in JSON: on one line, or indented."""
    items = list(yaml.load_all(bundle(resources), Loader=yaml.CSafeLoader))
    document = {"apiVersion": "v1", "kind": "List", "items": items}
    return json.dumps(document, indent=indent) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--dns", action="store_true", help="every Deployment names a Service")
    parser.add_argument("--only-deployments", action="store_true")
    parser.add_argument("--json", action="store_true", help="one kind: List in JSON")
    parser.add_argument("--indent", type=int, default=None, help="JSON indentation")
    args = parser.parse_args(argv)
    if args.json:
        sys.stdout.write(json_list(args.resources, args.indent))
    else:
        text = bundle(args.resources, dns=args.dns, only_deployments=args.only_deployments)
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
