"""Swap images for their Windows counterparts from `image-map`, or say it cannot be checked.

## What it does
For each container `image`:

- if `.winfix.yaml` maps it, the image is replaced:

  ```yaml
  image-map:
    nginx:1.27: mcr.microsoft.com/oss/kubernetes/nginx:1.27-windows   # this exact image
    busybox: mcr.microsoft.com/windows/nanoserver:ltsc2022           # any tag of busybox
  ```

  A key with a tag or digest matches that exact reference; a key without one
  matches every tag of the repository. `nginx`, `library/nginx`,
  `docker.io/library/nginx` and `index.docker.io/library/nginx` are the same
  repository.
- otherwise an informational finding says the image's Windows variant cannot be
  known offline. Images that are Windows by name (`mcr.microsoft.com/windows/...`,
  `servercore`, `nanoserver`) are not reported.

Workloads that already targeted Windows in the input are left alone.

With `resolve-images` (`--resolve-images`; README "Images") the registry says: each
image (after any image-map replacement), in every workload, is looked up once per
run. No `windows/amd64` variant, or Windows variants only for other builds, is an
error naming the platforms found (the workload is blocked); an image that cannot be
looked up (unreachable, auth refused, rate limited, offline and not cached) is a
warning saying why (review); one that runs says nothing. The offline note is not
given then.

## Why (Windows nodes)
A Windows node runs only Windows images, with process isolation, so the image
must have a `windows/amd64` manifest whose OS build matches the node
(`10.0.20348` for Windows Server 2022, `10.0.26100` for 2025). Most Linux
images have none; the registry is the only place that says, and winfix works
offline.

## Fix safety
Safe: the replacement is exactly what the user configured for that image.
Checking that the replacement is a compatible build of the same software is the
user's part of the mapping.

## References
- https://kubernetes.io/docs/concepts/windows/intro/#windows-os-version-support
- https://learn.microsoft.com/en-us/virtualization/windowscontainers/deploy-containers/version-compatibility
- https://kubernetes.io/docs/concepts/containers/images/
- https://github.com/opencontainers/image-spec/blob/main/image-index.md (platform os.version)
- https://github.com/containerd/platforms/blob/main/platform_windows_compat.go (which builds run)
"""

from __future__ import annotations

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.toolkit import looks_like_windows_image, set_fix
from winfix.windows_target import written_for_windows
from winfix.yamltree import Node

_DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def split(reference: str) -> tuple[str, str]:
    """(normalised repository, tag-or-digest suffix including its ':' or '@')."""
    at = reference.find("@")
    if at >= 0:
        repository, suffix = reference[:at], reference[at:]
    else:
        slash = reference.rfind("/")
        colon = reference.rfind(":")
        if colon > slash:
            repository, suffix = reference[:colon], reference[colon:]
        else:
            repository, suffix = reference, ""
    for hub in _DOCKER_HUB:
        if repository.startswith(hub):
            repository = repository[len(hub) :]
            break
    if repository.startswith("library/"):
        repository = repository[len("library/") :]
    return repository, suffix


def lookup(image: str, image_map: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """(matching key, replacement) for ``image``: exact references first, then repositories."""
    repository, suffix = split(image)
    for key, target in image_map:
        if key == image:
            return key, target
    for key, target in image_map:
        key_repository, key_suffix = split(key)
        if key_repository == repository and key_suffix and key_suffix == suffix:
            return key, target
    for key, target in image_map:
        key_repository, key_suffix = split(key)
        if key_repository == repository and not key_suffix:
            return key, target
    return None


def check(resource: Resource, ctx: RuleContext) -> None:
    image_map = ctx.settings.image_map
    for pod in ctx.pod_templates():
        resolved = ctx.stream.images is not None
        if written_for_windows(pod) and not resolved:
            continue
        for container in pod.containers():
            image = container.node.get_str("image")
            if not image:
                continue
            field = f"{container.path}.image"
            at = container.node.get("image")
            if resolved and written_for_windows(pod):
                _resolved(ctx, container.name, image, field, at)
                continue
            found = lookup(image, image_map)
            if found is not None:
                key, target = found
                if target == image:
                    continue
                ctx.fix(
                    field,
                    f"container {container.name!r}: image {image} replaced by {target} "
                    f"(image-map: {key})",
                    set_fix(container.node, "image", value=target),
                    Safety.SAFE,
                    at=at,
                    severity=Severity.INFO,
                    current=image,
                    proposed=target,
                )
                if resolved:
                    _resolved(ctx, container.name, target, field, at)
                continue
            if resolved:
                _resolved(ctx, container.name, image, field, at)
                continue
            if looks_like_windows_image(image) or image in dict(image_map).values():
                continue
            ctx.report(
                field,
                f"container {container.name!r}: whether image {image} has a windows/amd64 "
                "variant for the node's OS build cannot be known offline; map it to a Windows "
                "image with image-map in .winfix.yaml",
                at=at,
                severity=Severity.INFO,
            )

def _resolved(ctx: RuleContext, container: str, image: str, field: str, at: Node | None) -> None:
    """What the image's registry says (``resolve-images``): nothing when it runs."""
    lookup = ctx.stream.images
    assert lookup is not None
    result = lookup.get(image)
    status = result.status.value
    if status == "runs":
        return
    # linux only or wrong build: the pod can never start on the node (blocked);
    # unknown: a human should look (review).
    severity = Severity.WARNING if status == "unknown" else Severity.ERROR
    ctx.report(
        field, f"container {container!r}: {result.message}", at=at, severity=severity,
        current=image,
    )


RULE = Rule(
    id="WIN174", name="image-windows-variant", safety=Safety.SAFE, check=check, pods_only=True,
    title="Replace images via image-map, else note a Windows variant cannot be checked offline",
)
