"""winfix as a Helm post-renderer (Helm 3 executable, Helm 4 ``postrenderer/v1`` plugin).

Helm 3 (``pkg/postrender/exec.go``) runs any executable with the rendered
manifests on stdin and expects manifests on stdout; ``--post-renderer-args``
are passed through. Helm 4 runs only a plugin of type ``postrenderer/v1``
(``plugins/helm/plugin.yaml`` in this repository), sends hook documents too, tags
every document with ``postrenderer.helm.sh/postrender-filename`` and fails on
empty output. winfix changes only the bytes a fix needs, so the ``# Source:``
comments and the filename annotation pass through untouched.

``winfix-post-renderer [winfix apply options]`` is ``winfix apply -`` with two
differences a post-renderer needs: input with no YAML content (every template
rendered empty) is echoed back instead of being an error, and a leading
``apply`` / trailing ``-`` are accepted, so the Helm 3 command line
``--post-renderer-args apply --post-renderer-args -`` also works with the Helm 4
plugin.
"""

from __future__ import annotations

import io
import sys

from winfix import files

# The annotation Helm 4 adds to every document; it must survive post-rendering.
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"


def _blank(data: bytes) -> bool:
    for raw in data.splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#") and line not in (b"---", b"..."):
            return False
    return True


def apply_args(argv: list[str]) -> list[str]:
    """``winfix apply`` arguments for the post-renderer's own arguments."""
    args = list(argv)
    if args and args[0] == "apply":
        args = args[1:]
    args = [a for a in args if a != "-"]
    for forbidden in ("--diff", "--check"):
        if forbidden in args:
            raise SystemExit(
                f"winfix-post-renderer: {forbidden} cannot be used as a post-renderer "
                "(Helm needs the manifests on stdout)"
            )
    return ["apply", *args, "-"]


def main(argv: list[str] | None = None) -> int:
    """Console script ``winfix-post-renderer``."""
    from winfix.cli import main as cli_main

    args = sys.argv[1:] if argv is None else argv
    try:
        winfix_args = apply_args(args)
    except SystemExit as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    data = sys.stdin.buffer.read()
    if _blank(data):
        # Every template rendered empty: hand Helm back exactly what it sent
        # (Helm 4 rejects an empty output as an error).
        try:
            files.write_stream(sys.stdout.buffer, data)
        except files.OutputError as exc:
            sys.stderr.write(f"winfix-post-renderer: error: {exc}\n")
            return 2
        return 0
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    try:
        return cli_main(winfix_args)
    finally:
        sys.stdin = saved


if __name__ == "__main__":
    raise SystemExit(main())
