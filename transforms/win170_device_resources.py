"""Report GPU, MIG and other vendor device resources, which Windows nodes do not offer.

## What it does
Reports, as errors and without a fix, every container `resources.requests` or
`resources.limits` entry for a vendor device resource:

- `nvidia.com/gpu` (the message names the Windows GPU resource to look at);
- `nvidia.com/mig-*` (multi-instance GPU, unsupported on Windows);
- other device-plugin resources: `amd.com/*`, `gpu.intel.com/*`, other Intel
  device plugins (`qat.intel.com`, `sgx.intel.com`, `fpga.intel.com`...),
  `habana.ai/*`, `aws.amazon.com/neuron*`, `google.com/tpu`, `xilinx.com/*`,
  `squat.ai/*`, `devic.es/*`, `smarter-devices/*`.

`microsoft.com/directx` (the DirectX device plugin of Windows GPU nodes) is not
reported.

## Why (Windows nodes)
Extended resources are advertised by device plugins, and the NVIDIA, AMD,
Intel, Habana, Neuron and TPU plugins run on Linux nodes only. A Windows node
has no capacity for them, so the pod stays Pending. Windows GPU nodes (AKS,
preview) use the DirectX device plugin instead, and Windows has no
multi-instance GPU. The AKS documentation is inconsistent about that resource's
name (`microsoft.com/directx` in the text, `microsoft.com.directx/gpu` in its
sample output), one more reason never to map it automatically.

## Fix safety
No fix: a CUDA or ROCm workload does not run on a DirectX GPU; the image and
the code have to change, or the workload stays on Linux (`winfix.io/keep-linux`).

## References
- https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/
- https://learn.microsoft.com/en-us/azure/aks/use-windows-gpu
- https://kubernetes.io/docs/concepts/windows/intro/
"""

from __future__ import annotations

import re

from winfix.model import Safety, Severity
from winfix.resources import Resource
from winfix.rules import Rule, RuleContext
from winfix.yamltree import Mapping, Node

# Compiled on first use (re's cache), not at import: most runs never need it (issue 16).
_VENDOR = (
    r"""^(?:
        nvidia\.com/ | amd\.com/ | (?:[a-z0-9-]+\.)?intel\.com/ | habana\.ai/
      | aws\.amazon\.com/neuron | google\.com/tpu | xilinx\.com/ | amd-xilinx\.com/
      | squat\.ai/ | devic\.es/ | smarter-devices/ | qualcomm\.com/ | cloud-tpus\.google\.com/
    )"""
)


def describe(resource_name: str) -> str | None:
    """Why a device resource cannot be scheduled on Windows; None if it can."""
    if resource_name.startswith("nvidia.com/mig-"):
        return "multi-instance GPU (MIG) does not exist on Windows"
    if resource_name == "nvidia.com/gpu":
        return (
            "the NVIDIA device plugin runs on Linux only; Windows GPU nodes (AKS preview) "
            "offer DirectX GPUs through microsoft.com/directx, which a CUDA workload cannot use"
        )
    if re.match(_VENDOR, resource_name, re.VERBOSE):
        return "its device plugin runs on Linux nodes only, so Windows nodes have no capacity"
    return None


def check(resource: Resource, ctx: RuleContext) -> None:
    for pod in ctx.pod_templates():
        for container in pod.containers():
            resources = container.node.get_map("resources")
            if resources is None:
                continue
            reported: set[str] = set()
            for section in ("limits", "requests"):
                values = resources.get_map(section)
                if values is None:
                    continue
                for name, _value in values.items():
                    why = describe(name)
                    if why is None or name in reported:
                        continue
                    reported.add(name)
                    ctx.report(
                        f"{container.path}.resources.{section}.{name}",
                        f"container {container.name!r} requests {name}: {why}; the pod stays "
                        "Pending on Windows nodes",
                        at=_key(values, name),
                        severity=Severity.ERROR,
                    )


def _key(values: Mapping, name: str) -> Node:
    pair = values.pair(name)
    return pair.key if pair is not None else values


RULE = Rule(
    id="WIN170", name="device-resources", safety=Safety.NONE, check=check, pods_only=True,
    title="Report GPU, MIG and other vendor device resources (no such devices on Windows nodes)",
)
