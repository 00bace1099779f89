"""A Kubernetes API server on 127.0.0.1 that answers discovery only, for Helm 3 dry runs.

Helm 3.17 ``install --dry-run=client`` still checks the cluster is reachable
(``pkg/action/install.go``: only ``helm template`` sets ``ClientOnly``) and reads
the server version and API groups for ``.Capabilities``. With ``HELM_DRIVER=memory``
and ``HELM_MEMORY_DRIVER_DATA`` it stores no release and uses a printing kube client,
so ``/version`` and the discovery documents
(https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api) are
all it asks for. Anything else is a 404, and is recorded so a test can see it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

# group/version -> (kind, plural, namespaced) for what the test charts use.
RESOURCES = {
    "v1": [
        ("ConfigMap", "configmaps", True),
        ("Pod", "pods", True),
        ("Service", "services", True),
        ("ServiceAccount", "serviceaccounts", True),
        ("Secret", "secrets", True),
        ("Namespace", "namespaces", False),
    ],
    "apps/v1": [
        ("DaemonSet", "daemonsets", True),
        ("Deployment", "deployments", True),
        ("StatefulSet", "statefulsets", True),
    ],
    "batch/v1": [("Job", "jobs", True)],
}


def _documents() -> dict[str, Any]:
    docs: dict[str, Any] = {
        "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0",
                     "platform": "linux/amd64"},
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    }
    groups = []
    for group_version, kinds in RESOURCES.items():
        resources = [
            {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
            for kind, plural, namespaced in kinds
        ]  # fmt: skip
        path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        docs[path] = {"kind": "APIResourceList", "apiVersion": "v1",
                      "groupVersion": group_version, "resources": resources}  # fmt: skip
        if "/" in group_version:
            group, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    docs["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    return docs


class _Handler(BaseHTTPRequestHandler):
    documents: ClassVar[dict[str, Any]] = {}
    unknown: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        document = self.documents.get(path)
        if document is None:
            self.unknown.append(self.path)
            document = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "NotFound", "code": 404}  # fmt: skip
        body = json.dumps(document).encode()
        self.send_response(200 if path in self.documents else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def discovery_server(directory: Path) -> Iterator[tuple[Path, list[str]]]:
    """Serve on 127.0.0.1; yields a kubeconfig for it and the list of unknown requests."""
    handler = type("Handler", (_Handler,), {"documents": _documents(), "unknown": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = directory / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{server.server_port}\n"
        "contexts:\n- name: fake\n  context: {cluster: fake, user: fake, namespace: default}\n"
        "users:\n- name: fake\n  user: {}\n"
    )
    try:
        yield kubeconfig, handler.unknown
    finally:
        server.shutdown()
        server.server_close()
