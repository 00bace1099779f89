"""Report Linux shells in `command`, `args`, exec probes and lifecycle hooks.

## What it does
Reports (warning, no fix) each field that starts a Linux shell: `sh`, `bash`,
`ash`, `dash`, `zsh`, `ksh` by name or by path (`/bin/sh`, `/bin/bash`,
`/bin/ash`, `/usr/bin/bash`, `/busybox/sh`...), `env bash`/`/usr/bin/env sh`,
also behind an init wrapper (`tini -- sh -c ...`, `dumb-init bash`).
It looks at:

- `command`, and `args` when there is no `command` (the image's entrypoint
  then receives the shell as its first argument, as in `args: [/bin/sh, -c, ...]`);
- `livenessProbe`, `readinessProbe` and `startupProbe` `exec.command`;
- `lifecycle.postStart` and `lifecycle.preStop` `exec.command`.

The finding names the field path (for example
`spec.template.spec.initContainers[0].command`). Workloads that already
targeted Windows (winfix's own output among them) are checked too: a Linux
shell is missing from their image all the same, and a second run must report
what the first one did.

## Why (Windows nodes)
Windows container images have no `/bin/sh` or `bash`: the container fails to
start (or the probe or hook fails every time, so the kubelet restarts the
container). Windows images run `cmd /c` or `powershell -Command`; `httpGet`,
`tcpSocket` and `grpc` probes work unchanged.

## Fix safety
No fix: a shell script has to be rewritten for cmd or PowerShell by someone who
knows what it does.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers
- https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
- https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
"""

from __future__ import annotations

import posixpath

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import get_in
from winfix.yamltree import Mapping, Scalar, Sequence

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HOOKS = ("postStart", "preStop")
WRAPPERS = frozenset({"tini", "dumb-init", "catatonit"})


def shell_of(words: list[str]) -> str | None:
    """The shell a command line starts (``/bin/sh``), or None."""
    tokens: list[str] = []
    for word in words[:4]:
        tokens.extend(word.split())
    # An init wrapper (`tini -- sh -c ...`) runs the shell as its child.
    while tokens and (posixpath.basename(tokens[0]) in WRAPPERS or tokens[0] == "--"):
        tokens.pop(0)
    if not tokens:
        return None
    first = tokens[0]
    name = posixpath.basename(first)
    if name == "env" and len(tokens) > 1 and first in ("env", "/usr/bin/env", "/bin/env"):
        shell = posixpath.basename(tokens[1])
        return f"{first} {tokens[1]}" if shell in SHELLS else None
    if "\\" in first:
        return None  # a Windows path
    if name in SHELLS and (first == name or first.startswith("/")):
        return first
    if name == "busybox" and len(tokens) > 1 and tokens[1] in SHELLS:
        return f"{first} {tokens[1]}"
    return None


def _words(node: object) -> list[str] | None:
    if isinstance(node, Sequence):
        return [item.value for item in node if isinstance(item, Scalar)]
    return None


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        # Written for Windows (winfix's own output included) or not: a Linux shell is as
        # missing from a Windows image either way, so a second run reports it again.
        for container in pod.containers():
            node = container.node
            fields: list[tuple[str, Sequence]] = []
            command = node.get_seq("command")
            if command is not None:
                fields.append(("command", command))
            elif node.get_seq("args") is not None:
                args = node.get_seq("args")
                assert args is not None
                fields.append(("args", args))
            for probe in PROBES:
                exec_ = _exec(node.get_map(probe))
                if exec_ is not None:
                    fields.append((f"{probe}.exec.command", exec_))
            lifecycle = node.get_map("lifecycle")
            for hook in HOOKS:
                exec_ = _exec(lifecycle.get_map(hook) if lifecycle is not None else None)
                if exec_ is not None:
                    fields.append((f"lifecycle.{hook}.exec.command", exec_))
            for field, seq in fields:
                words = _words(seq) or []
                shell = shell_of(words)
                if shell is None:
                    continue
                ctx.report(
                    f"{container.path}.{field}",
                    f"container {container.name!r}: {field} runs the Linux shell {shell}, "
                    "which Windows images do not have; rewrite it for cmd /c or "
                    "powershell -Command, or confirm that this image ships one",
                    at=seq,
                    severity=Severity.WARNING,
                )


def _exec(handler: Mapping | None) -> Sequence | None:
    command = get_in(handler, "exec", "command")
    return command if isinstance(command, Sequence) else None


RULE = Rule(
    id="WIN171", name="linux-shell", safety=Safety.NONE, check=check, pods_only=True,
    title="Report Linux shells (sh -c, /bin/bash...) in commands, args, exec probes and hooks",
)
