"""winfix: make Linux-first Kubernetes manifests run on Windows nodes."""

__version__ = "0.1.0"
