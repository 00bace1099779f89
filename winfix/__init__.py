"""winfix: make Linux-first Kubernetes manifests run on Windows nodes."""

__version__ = "0.1.0"


def compiled() -> bool:
    """Whether this is the mypyc-compiled build (``WINFIX_MYPYC=1``: hatch_build.py),
    found without importing it: the tree builder is an extension module, not a ``.py``
    file."""
    from importlib.util import find_spec

    spec = find_spec("winfix.yamltree")
    return spec is not None and spec.origin is not None and not spec.origin.endswith(".py")
