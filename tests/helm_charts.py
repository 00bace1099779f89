"""Hand-written charts for the real Helm tests (the `helm create` scaffold is made by helm)."""

from __future__ import annotations

from pathlib import Path


def _chart(name: str) -> str:
    return f"apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: '1.0'\n"


# A node agent: every node, host logs, root; winfix fixes it all and warns about
# the hostPath (WIN154 warning, unsafe fix available).
AGENT = {
    "Chart.yaml": _chart("agent"),
    "values.yaml": "image: mcr.microsoft.com/windows/nanoserver:ltsc2022\nlogDir: /var/log\n",
    "templates/daemonset.yaml": """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-agent
  labels:
    app: node-agent # collects node logs
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
        - operator: Exists
      containers:
        - name: agent
          image: {{ .Values.image | quote }}
          securityContext:
            runAsUser: 0
          volumeMounts:
            - name: logs
              mountPath: {{ .Values.logDir }}
      volumes:
        - name: logs
          hostPath:
            path: {{ .Values.logDir }}
""",
}

# Hooks: a pre-install Job and a test Pod, besides an ordinary Deployment.
HOOKS = {
    "Chart.yaml": _chart("hooks"),
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
""",
    "templates/migrate-job.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-weight": "-5"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
""",
    "templates/tests/test-connection.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: curl
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
      command: ['cmd', '/c', 'curl {{ .Release.Name }}-web']
""",
}

# Several templates, one with two documents, comments inside and between them:
# Helm labels each with `# Source:`, and those comments must survive.
MULTI = {
    "Chart.yaml": _chart("multi"),
    "templates/config.yaml": """\
# settings shared by both workloads
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  mode: "windows" # not a node selector
""",
    "templates/workloads.yaml": """\
# the front end
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-front
spec:
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      nodeSelector:
        kubernetes.io/os: linux # was Linux-only
      containers:
        - name: front
          image: mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022
---
# the worker
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-worker
spec:
  serviceName: worker
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
""",
    "templates/_helpers.tpl": '{{- define "multi.name" -}}multi{{- end -}}\n',
}

# Renders nothing with the default values.
EMPTY = {
    "Chart.yaml": _chart("empty"),
    "values.yaml": "enabled: false\n",
    "templates/configmap.yaml": """\
{{- if .Values.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
{{- end }}
""",
}

# A workload no fix can make run on Windows (a raw block device): winfix must stop.
BLOCKED = {
    "Chart.yaml": _chart("blocked"),
    "templates/daemonset.yaml": """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: disk-agent
spec:
  selector:
    matchLabels: {app: disk-agent}
  template:
    metadata:
      labels: {app: disk-agent}
    spec:
      containers:
        - name: agent
          image: mcr.microsoft.com/windows/nanoserver:ltsc2022
          volumeDevices:
            - {name: raw, devicePath: /dev/xvda}
      volumes:
        - name: raw
          persistentVolumeClaim: {claimName: raw}
""",
}

CHARTS = {"agent": AGENT, "hooks": HOOKS, "multi": MULTI, "empty": EMPTY, "blocked": BLOCKED}


def write_chart(base: Path, name: str) -> Path:
    """The hand-written chart ``name`` under ``base``; returns its directory."""
    for relative, text in CHARTS[name].items():
        path = base / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base / name


def write_charts(base: Path) -> dict[str, Path]:
    """Every hand-written chart under ``base``; returns name -> chart directory."""
    return {name: write_chart(base, name) for name in CHARTS}
