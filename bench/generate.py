"""Generate a large rendered bundle: Deployments with typical Linux securityContexts plus Services.

Shaped like `helm template` output (``# Source:`` comments, indented lists, quoted
strings), about 760 bytes per resource: 10,000 resources make a ~7.6 MB stream,
the size the engine issue measures against.

    python bench/generate.py --resources 10000 > bundle.yaml
"""

from __future__ import annotations

import argparse
import sys

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
            - {{name: tmp, mountPath: /tmp}}
      volumes: [{{name: tmp, emptyDir: {{}}}}]
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


def bundle(resources: int) -> str:
    parts = []
    for i in range(resources // 2):
        parts.append(DEPLOYMENT.format(i=i, ns=i % 17))
        parts.append(SERVICE.format(i=i, ns=i % 17))
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args(argv)
    sys.stdout.write(bundle(args.resources))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
