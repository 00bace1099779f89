"""Property tests: random multi-document streams shaped like rendered charts.

Workloads come in random list-indent styles, quoting, comments and flow/block
collections; between them sit Services, ConfigMaps with block scalars,
comment-only and empty documents and every ``---`` variant. For any stream,
winfix must keep unchanged documents byte-identical, keep the document count and
order, change nothing on a second run, and always write YAML that parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winfix import registry
from winfix.engine import fix_text
from winfix.settings import Settings
from winfix.yamltree import iter_documents

RULES = registry.all_rules()
SCHEDULING = tuple(r for r in RULES if r.id in {f"WIN00{i}" for i in range(1, 8)})

KINDS = {
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "Pod": "v1",
}


@dataclass(frozen=True)
class Shape:
    step: int  # mapping indentation step
    dash: int  # list dash offset from the parent key (0 or step)
    quote: str  # "", "'" or '"'
    comments: bool


def q(value: str, shape: Shape) -> str:
    return f"{shape.quote}{value}{shape.quote}"


def indent(lines: list[str], n: int) -> list[str]:
    return [(" " * n + line) if line else line for line in lines]


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    step = draw(st.sampled_from([2, 4]))
    return Shape(
        step=step,
        dash=draw(st.sampled_from([0, step])),
        quote=draw(st.sampled_from(["", "'", '"'])),
        comments=draw(st.booleans()),
    )


def block_list(items: list[list[str]], shape: Shape) -> list[str]:
    """Block list items (each a list of mapping lines) at the dash offset of ``shape``."""
    out: list[str] = []
    for item in items:
        out.append(" " * shape.dash + "- " + item[0])
        out.extend(indent(item[1:], shape.dash + 2))
    return out


@st.composite
def pod_spec(draw: st.DrawFn, shape: Shape, name: str) -> list[str]:
    """Lines of a PodSpec's keys at column 0 (the caller indents them)."""
    lines: list[str] = []
    selector = draw(
        st.sampled_from(
            ["none", "block-linux", "flow-linux", "block-windows", "flow-empty", "null"]
        )
    )
    if selector == "block-linux":
        lines += ["nodeSelector:", " " * shape.step + "kubernetes.io/os: linux"]
        if shape.comments:
            lines.append(" " * shape.step + "# pools")
        lines.append(" " * shape.step + "disktype: ssd")
    elif selector == "flow-linux":
        lines.append("nodeSelector: {kubernetes.io/os: linux, disktype: ssd}")
    elif selector == "block-windows":
        lines += ["nodeSelector:", " " * shape.step + f"kubernetes.io/os: {q('windows', shape)}"]
    elif selector == "flow-empty":
        lines.append("nodeSelector: {}")
    elif selector == "null":
        lines.append("nodeSelector:")
    tolerations = draw(st.sampled_from(["none", "block", "flow-empty", "all"]))
    if tolerations == "block":
        lines.append("tolerations:")
        lines += block_list([["key: dedicated", "operator: Exists"]], shape)
    elif tolerations == "flow-empty":
        lines.append("tolerations: []")
    elif tolerations == "all":
        lines += ["tolerations:", *block_list([["operator: Exists"]], shape)]
    container = [f"name: {q(name, shape)}", f"image: {q('example/' + name + ':1.0', shape)}"]
    if shape.comments:
        container[1] += "  # pinned"
    if draw(st.booleans()):
        container += ["args:", *block_list([["--port=8080"], ["--verbose"]], shape)]
    if draw(st.booleans()):
        container += [
            "command: [sh, -c]",
            "env:",
            *block_list([["name: A", "value: |", "  x", ""]], shape),
        ]
        container = [line for line in container if line != ""]
    if draw(st.booleans()):
        container += ["securityContext:", " " * shape.step + "runAsNonRoot: true"]
    if draw(st.booleans()):
        lines.append(
            "containers: [{name: "
            + name
            + ", image: "
            + q("example/" + name + ":1.0", shape)
            + "}]"
        )
    else:
        lines += ["containers:", *block_list([container], shape)]
        trailer = draw(st.sampled_from(["", "deep", "dash", "blank", "keep"]))
        if trailer == "deep":
            lines.append(" " * (shape.dash + 2) + "# probes omitted")
        elif trailer == "dash":
            lines.append(" " * shape.dash + "# more containers could follow")
        elif trailer == "blank":
            lines.append("")
        elif trailer == "keep":  # a "|+" scalar whose trailing blank line is content
            lines += [
                "dnsConfig:",
                " " * shape.step + "searches: |+",
                " " * 2 * shape.step + "x",
                "",
            ]
    if draw(st.booleans()):
        lines.insert(0, "restartPolicy: Always" if draw(st.booleans()) else "hostNetwork: false")
    return lines


@st.composite
def workload(draw: st.DrawFn, index: int) -> str:
    shape = draw(shapes())
    kind = draw(st.sampled_from(sorted(KINDS)))
    name = f"app{index}"
    step = shape.step
    lines = [
        f"apiVersion: {KINDS[kind]}",
        f"kind: {kind}",
        "metadata:",
        " " * step + f"name: {name}",
    ]
    if draw(st.booleans()):
        lines += [" " * step + "labels:", " " * 2 * step + f"app: {q(name, shape)}"]
    spec = draw(pod_spec(shape, name))
    if kind == "Pod":
        lines += ["spec:", *indent(spec, step)]
    else:
        template = ["template:"]
        if draw(st.booleans()):
            template += [
                " " * step + "metadata:",
                " " * 2 * step + "labels:",
                " " * 3 * step + f"app: {name}",
            ]
        template += [" " * step + "spec:", *indent(spec, 2 * step)]
        head = [f"serviceName: {name}"] if kind == "StatefulSet" else []
        lines += ["spec:", *indent(head + template, step)]
    if shape.comments:
        lines.insert(0, f"# Source: chart/templates/{name}.yaml")
    return "\n".join(lines) + "\n"


@st.composite
def json_workload(draw: st.DrawFn, index: int) -> str:
    """A workload as `kubectl get -o json` writes it (JSON is YAML too)."""
    pod: dict[str, object] = {"containers": [{"name": f"j{index}", "image": "example/j:1"}]}
    if draw(st.booleans()):
        pod["nodeSelector"] = draw(st.sampled_from([{}, {"kubernetes.io/os": "linux"}]))
    if draw(st.booleans()):
        pod["tolerations"] = draw(st.sampled_from([[], [{"operator": "Exists"}]]))
    data = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"j{index}", "labels": {"app": f"j{index}"}},
        "spec": {"template": {"metadata": {}, "spec": pod}},
    }
    return json.dumps(data, indent=draw(st.sampled_from([None, 2, 4]))) + "\n"


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: svc{i}
  labels: {app: svc{i}}
spec:
  selector:
    app: svc{i}   # pods
  ports:
    - port: 80
      targetPort: "http"
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm{i}
data:
  script: |
    #!/bin/sh
    echo "---"

  short: >-
    folded
    text
  keep: |+
    kept

"""
OTHERS = [
    SERVICE,
    CONFIGMAP,
    "# only a comment in this document\n",
    "",
    "~\n",
    "- not\n- kubernetes\n",
    '{"kind": "NotAnObject", "i": {i}}\n'.replace("{i}", "0"),
]


@st.composite
def streams(draw: st.DrawFn) -> str:
    count = draw(st.integers(min_value=1, max_value=5))
    parts: list[str] = []
    for i in range(count):
        choice = draw(st.integers(0, 5))
        if choice <= 2:
            parts.append(draw(workload(i)))
        elif choice == 3:
            parts.append(draw(json_workload(i)))
        else:
            parts.append(draw(st.sampled_from(OTHERS)).replace("{i}", str(i)))
    separators = st.sampled_from(
        ["---\n", "--- # next\n", "---\n# Source: chart/templates/x.yaml\n"]
    )
    text = draw(st.sampled_from(["", "---\n", "# header\n---\n"]))
    for i, part in enumerate(parts):
        if i:
            text += draw(separators)
        text += part
        has_content = any(line and not line.startswith("#") for line in part.splitlines())
        if has_content and i + 1 < len(parts) and draw(st.integers(0, 5)) == 0:
            text += "...\n"
    if draw(st.integers(0, 4)) == 0:
        text = text.rstrip("\n")
    if draw(st.integers(0, 4)) == 0:
        text = text.replace("\n", "\r\n")
    return text


def spans(text: str) -> list[str]:
    """Each document's text, from the end of the previous one to its own end."""
    return [text[d.preamble_start : d.end] for d in iter_documents(text, "s.yaml")]


def identities(text: str) -> list[tuple[object, object]]:
    out = []
    for data in yaml.safe_load_all(text):
        if isinstance(data, dict):
            out.append((data.get("kind"), (data.get("metadata") or {}).get("name")))
        else:
            out.append((type(data).__name__, None))
    return out


def check_stream(text: str, config: Settings, rules: tuple[object, ...]) -> None:
    result = fix_text(text, "s.yaml", config, rules)  # type: ignore[arg-type]
    assert result.error is None, result.error
    out = result.fixed
    # (d) the output parses, (b) with the same documents in the same order
    assert identities(out) == identities(text)
    # (a) documents with no applied fix are byte-identical
    changed = {f.document for f in result.findings if f.fixed}
    before, after = spans(text), spans(out)
    assert len(before) == len(after)
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if index not in changed:
            assert new == old, f"document {index + 1} changed without a fix"
    # JSON documents (`kubectl get -o json`) stay JSON
    for before_doc, after_doc in zip(
        iter_documents(text, "s.yaml"), iter_documents(out, "s.yaml"), strict=True
    ):
        if text[before_doc.start : before_doc.start + 1] == "{":
            body = out[after_doc.start : after_doc.end].strip().removesuffix("...").strip()
            json.loads(body)
    # (c) a second run changes nothing
    again = fix_text(out, "s.yaml", config, rules)  # type: ignore[arg-type]
    assert again.fixed == out
    assert not [f for f in again.findings if f.fixed]
    # line endings stay those of the input
    if "\r\n" in text:
        assert "\n" not in out.replace("\r\n", "")


COMMON = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(streams(), st.sampled_from([None, "2022"]))
def test_scheduling_rules_on_random_streams(text: str, version: str | None) -> None:
    check_stream(text, Settings(windows_version=version), SCHEDULING)


@COMMON
@given(streams())
def test_all_rules_on_random_streams(text: str) -> None:
    check_stream(text, Settings(windows_version="2022"), RULES)


@settings(max_examples=60, deadline=None)
@given(streams())
def test_runtime_class_on_random_streams(text: str) -> None:
    check_stream(text, Settings(runtime_class="windows-2022"), SCHEDULING)
