"""Block init containers whose only job is Linux kernel tuning (sysctl -w, ulimit, chown).

## What it does
Reports, as an error, an init container whose command line only runs
`sysctl` (`sysctl -w key=value`, `sysctl key=value`), `ulimit` or `chown`
statements, directly or through `sh -c`/`bash -c` (statements joined with `&&`,
`;`, `||` or new lines). The message names the pattern. The unsafe fix drops
the init container.

## Why (Windows nodes)
Such init containers (usually `privileged: true`, with a Linux image such as
`alpine` or `busybox`) tune the Linux kernel of the node or fix POSIX file
ownership before the application starts: `vm.max_map_count` for Elasticsearch,
`kernel.core_pattern` for core dumps, `net.core.somaxconn`, `ulimit -n`, or
`chown -R 1000:1000 /data`. Windows has no sysctls, no POSIX resource limits
and no UIDs: the image does not run on a Windows node, and neither do the
commands, so the pod never gets past its init phase. What they tuned has no
Windows counterpart to set from a pod; volume permissions on Windows are ACLs
(set in the image or through `runAsUserName`).

## Fix safety
Unsafe: dropping the init container lets the pod start, without the tuning.
The application must not depend on it (a kernel setting it checks at start,
files it expects to own) — a person has to confirm that.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#compatibility-v1-pod-spec-containers
- sysctls in pods (Linux only): https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
- https://kubernetes.io/docs/concepts/workloads/pods/init-containers/
"""

from __future__ import annotations

import posixpath
import re
from functools import partial

from winfix.model import Safety, Severity
from winfix.resources import Container, PodTemplate, Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import remove_item
from winfix.yamltree import Scalar

TUNING = frozenset({"sysctl", "ulimit", "chown"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
# Compiled on first use (re's cache), not at import: most runs never need it (issue 16).
_SEPARATORS = r"&&|\|\||;|\n"


def statements(words: list[str]) -> list[list[str]] | None:
    """The statements a command line runs (each a word list), or None when unreadable."""
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        import shlex  # only for `sh -c` scripts: every run loads this rule (bench/startup.py)

        found = []
        for part in re.split(_SEPARATORS, words[2]):
            try:
                tokens = shlex.split(part)
            except ValueError:
                return None
            if tokens:
                found.append(tokens)
        return found
    return [words] if words else []


def tuning_only(words: list[str]) -> list[str]:
    """The tuning statements, when tuning is all the command line does; else []."""
    found = statements(words)
    if not found:
        return []
    shown = []
    for tokens in found:
        if posixpath.basename(tokens[0]) not in TUNING:
            return []
        shown.append(" ".join(tokens[:3]))
    return shown


def _words(container: Container) -> list[str]:
    words: list[str] = []
    for key in ("command", "args"):
        items = container.node.get_seq(key)
        words.extend(item.value for item in items or () if isinstance(item, Scalar))
    return words


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for container in pod.containers():
            if container.list_name != "initContainers":
                continue
            shown = tuning_only(_words(container))
            if not shown:
                continue
            ctx.fix(
                container.path,
                f"init container {container.name!r} only tunes the Linux kernel or file "
                f"ownership ({'; '.join(shown)}): Windows has no sysctls, POSIX resource limits "
                "or UIDs, so the pod never gets past it; the unsafe fix drops the init "
                "container (confirm the application does not need what it set)",
                partial(_drop, pod, container),
                Safety.UNSAFE,
                at=container.node,
                severity=Severity.ERROR,
                current=container.name,
            )


def _drop(pod: PodTemplate, container: Container) -> None:
    remove_item(pod.spec, "initContainers", container.node)
    pod.containers_removed()


RULE = Rule(
    id="WIN175", name="kernel-tuning-init", safety=Safety.UNSAFE, check=check, pods_only=True,
    title="Block init containers that only tune the Linux kernel (sysctl -w, ulimit, chown); "
    "unsafe fix: drop them",
)
