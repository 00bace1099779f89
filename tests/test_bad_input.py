"""Input winfix cannot read: one line ``file:line:col: message``, exit 2, nothing written.

Each case runs twice: as a named file (which must stay byte-identical, with no
temporary file left) and on stdin (nothing may reach stdout).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, repro
from winfix import krm

Cli = Callable[..., CliResult]

GOOD = b"""\
apiVersion: v1
kind: Pod
metadata:
  name: good
spec:
  containers:
  - name: app
    image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""

# The classic billion-laughs document: 9 levels of 9 aliases, 9**9 strings once expanded.
BILLION_LAUGHS = b"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: lol
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

# (id, content, message after "NAME:")
CASES: list[tuple[str, bytes, str]] = [
    (
        "not-yaml-ini",
        b"[server]\nport = 8080\n",
        "2:1: YAML syntax error: did not find expected <document start>",
    ),
    (
        "syntax-error-unclosed-quote",
        b'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: "unterminated\n',
        "7:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar)",
    ),
    (
        "syntax-error-flow",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
        "4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping)",
    ),
    (
        "duplicate-key",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {}\n  name: b\n",
        '6:3: duplicate key "name" (first at line 4)',
    ),
    (
        "tab-indentation",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n\tcontainers: []\n",
        "6:1: YAML syntax error: tab character where YAML expects spaces "
        "(YAML forbids tabs for indentation)",
    ),
    (
        "not-kubernetes",
        b"# chart values\nreplicaCount: 2\nimage:\n  repository: nginx\n",
        "2:1: not a Kubernetes manifest: no document has apiVersion and kind",
    ),
    (
        "not-kubernetes-list",
        b"---\n  - a\n  - b\n",
        "2:3: not a Kubernetes manifest: no document has apiVersion and kind",
    ),
    (
        "unrendered-template-structural",
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        b'  labels:\n    {{- include "web.labels" . | nindent 4 }}\n',
        "6:5: unrendered Helm template ('{{' found); render it with `helm template` first",
    ),
    (
        "unrendered-template-quoted",
        # Valid YAML: only the Go template actions give it away.
        b'apiVersion: v1\nkind: Service\nmetadata:\n  name: "{{ .Release.Name }}-web"\n',
        "4:10: unrendered Helm template ('{{' found); render it with `helm template` first",
    ),
    (
        "binary-png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "3:1: binary data (NUL byte): not a YAML file",
    ),
    (
        "latin-1",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        "4:12: not valid UTF-8 text (byte 0xe9)",
    ),
    ("empty", b"", "1:1: empty input: no YAML documents"),
    ("only-comments", b"# generated\n---\n# nothing\n", "1:1: empty input: no YAML documents"),
    (
        "alias-bomb",
        BILLION_LAUGHS,
        "12:16: document expands to too many nodes through aliases (alias bomb?)",
    ),
    (
        # Each level redefines &a over the previous one: counted per anchor *name*, the
        # guard saw 11 nodes a level (issue 13, item 4).
        "alias-bomb-redefined-anchor",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  x0: &a z\n"
        + b"".join(b"  x%d: &a [%s]\n" % (i, b", ".join([b"*a"] * 10)) for i in range(1, 12)),
        "12:11: document expands to too many nodes through aliases (alias bomb?)",
    ),
    (
        "alias-bomb-in-mapping-values",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  x0: &a {k: v}\n"
        + b"".join(
            b"  x%d: &a {%s}\n" % (i, b", ".join(b"k%d: *a" % j for j in range(8)))
            for i in range(1, 10)
        ),
        "12:15: document expands to too many nodes through aliases (alias bomb?)",
    ),
]

_BREAK_ADVICE = "which YAML reads as a line break; winfix edits LF or CRLF text only: " + (
    "convert the line breaks first"
)

# Line breaks libyaml honours besides LF and CRLF (issue 13, item 1): refused, never spliced.
LINE_BREAK_CASES: list[tuple[str, bytes, str]] = [
    (
        "lone-cr",
        b"apiVersion: v1\rkind: Pod\rmetadata:\r  name: p\rspec:\r  hostPID: true\r",
        f"1:15: unsupported line break: a carriage return (CR) not followed by LF, {_BREAK_ADVICE}",
    ),
    (
        "lone-cr-in-a-crlf-file",
        b"apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r  labels: {}\r\n",
        f"4:10: unsupported line break: a carriage return (CR) not followed by LF, {_BREAK_ADVICE}",
    ),
    (
        "nel",
        "apiVersion: v1\nkind: Pod\x85metadata:\n  name: p\n".encode(),
        f"2:10: unsupported line break: NEL (U+0085), {_BREAK_ADVICE}",
    ),
    (
        "line-separator-in-a-comment",
        "apiVersion: v1\nkind: Pod # a\u2028b: c\nmetadata: {name: p}\n".encode(),
        f"2:14: unsupported line break: LINE SEPARATOR (U+2028), {_BREAK_ADVICE}",
    ),
    (
        "paragraph-separator-in-a-block-scalar",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata:\n  a: |\n    x\u2029y\n"
        .encode(),
        f"6:6: unsupported line break: PARAGRAPH SEPARATOR (U+2029), {_BREAK_ADVICE}",
    ),
]
CASES += LINE_BREAK_CASES


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_named_file(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    target = tmp_path / "in.yaml"
    target.write_bytes(content)
    result = cli("apply", "in.yaml")
    assert result.code == 2
    assert result.out == b""
    assert result.err_lines == [
        f"in.yaml:{message}",
        "winfix: 0 fixed, 0 of 0 files changed, 1 unreadable",
    ]
    assert target.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.yaml"]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["apply", "--diff", "--check"])
def test_stdin(cli: Cli, content: bytes, message: str, mode: str) -> None:
    argv = ["apply", "-"] if mode == "apply" else ["apply", mode, "-"]
    result = cli(*argv, "-q", stdin=content)
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines == [f"<stdin>:{message}"]


def test_bad_file_does_not_stop_the_others(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(GOOD)
    (tmp_path / "b.yaml").write_bytes(BILLION_LAUGHS)
    (tmp_path / "c.yaml").write_bytes(b"\t- tab\n")
    (tmp_path / "d.yaml").write_bytes(GOOD)
    # WIN001 and WIN002 together place the pods on Windows: with WIN001 alone the self-check
    # blocks them and (all or nothing) nothing of them is written.
    result = cli("apply", "--select", "WIN001,WIN002", "a.yaml", "b.yaml", "c.yaml", "d.yaml")
    assert result.code == 2
    assert result.err_lines[0] == "fixed a.yaml"
    assert "b.yaml:12:16: document expands to too many nodes through aliases (alias bomb?)" in (
        result.err_lines
    )
    assert (
        "c.yaml:1:1: YAML syntax error: tab character where YAML expects spaces "
        "(YAML forbids tabs for indentation)"
    ) in result.err_lines
    assert "fixed d.yaml" in result.err_lines
    assert result.err_lines[-1] == "winfix: 4 fixed, 2 of 2 files changed, 2 unreadable"
    fixed = GOOD + b"  os:\n    name: windows\n  nodeSelector:\n    kubernetes.io/os: windows\n"
    assert (tmp_path / "a.yaml").read_bytes() == fixed
    assert (tmp_path / "d.yaml").read_bytes() == fixed
    assert (tmp_path / "b.yaml").read_bytes() == BILLION_LAUGHS


def test_100_mib_file_fails_fast_on_the_size_limit(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "big.yaml"
    document = GOOD.replace(b"name: good", b"name: good-%08d")
    chunk = b"".join(b"---\n" + document % i for i in range(2000))
    with target.open("wb") as handle:
        while handle.tell() < 100 * 1024 * 1024:
            handle.write(chunk)
    size = target.stat().st_size
    started = time.monotonic()
    result = cli("apply", "big.yaml")
    elapsed = time.monotonic() - started
    assert result.code == 2
    assert result.err_lines[0] == (
        f"big.yaml:1:1: input is {size / 1024 / 1024:.1f} MiB, larger than the 64 MiB limit "
        "(raise it with --max-size)"
    )
    assert elapsed < 2, f"took {elapsed:.1f}s: the file was read or parsed"
    assert target.stat().st_size == size


def test_oversized_stdin_stops_at_the_limit(cli: Cli) -> None:
    data = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blob\ndata:\n  blob: "
        + b"x" * (2 * 1024 * 1024)
        + b"\n"
    )
    result = cli("apply", "--max-size", "1", "-", stdin=data)
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines[0] == (
        "<stdin>:1:1: input is larger than the 1 MiB limit (raise it with --max-size)"
    )
    larger = cli("apply", "-q", "--max-size", "3", "-", stdin=data)
    assert (larger.code, larger.out, larger.err) == (0, data, "")


def test_rendered_configmap_with_go_templates_is_not_a_helm_template(cli: Cli) -> None:
    """Alertmanager templates and Prometheus rules hold '{{' in rendered output."""
    stream = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alertmanager-templates\ndata:\n"
        b'  slack.tmpl: |\n    {{ define "slack.title" }}{{ .CommonLabels.alertname }}{{ end }}\n'
        b"  summary: '{{ $labels.instance }} is down'\n"
    )
    result = cli("apply", "-q", "-", stdin=stream)
    assert (result.code, result.out, result.err) == (0, stream, "")


def test_walked_unreadable_file_is_still_an_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "broken.yaml").write_bytes(b"a: [1\n")
    (tmp_path / "d" / "empty.yml").write_bytes(b"")
    result = cli("apply", "d")
    assert result.code == 2
    assert result.err_lines == [
        "d/broken.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence)",
        "d/empty.yml: skipped: empty: no YAML documents",
        "winfix: 0 fixed, 0 of 0 files changed, 1 skipped, 1 unreadable",
    ]


# -- issue 13: the reproducers of ../shared/repro/reliability, and other front ends ----


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "cr-only-line-breaks.yaml",
            "1:15: unsupported line break: a carriage return (CR) not followed by LF, "
            + _BREAK_ADVICE,
        ),
        ("nel-line-breaks.yaml", f"1:15: unsupported line break: NEL (U+0085), {_BREAK_ADVICE}"),
        (
            "alias-bomb-redefined-anchor.yaml",
            "13:11: document expands to too many nodes through aliases (alias bomb?)",
        ),
        (
            "alias-bomb-in-podspec-check-hangs.yaml",
            "20:15: document expands to too many nodes through aliases (alias bomb?)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["apply", "check"])
def test_reproducers_are_refused_fast(cli: Cli, name: str, message: str, command: str) -> None:
    data = repro(name).read_bytes()
    started = time.monotonic()
    result = cli(command, "-", stdin=data)
    elapsed = time.monotonic() - started
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines[0] == f"<stdin>:{message}"
    assert elapsed < 1, f"took {elapsed:.1f}s"


def _resource_list(item: bytes) -> bytes:
    """A ResourceList holding ``item`` (a block mapping at column 0) as its only item."""
    indented = b"".join(b"    " + line for line in item.splitlines(keepends=True))
    return b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n  -\n" + indented


def _krm(stdin: bytes) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = krm.run(io.BytesIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (CASES[-8][1], "document expands to too many nodes through aliases (alias bomb?)"),
        (BILLION_LAUGHS, "document expands to too many nodes through aliases (alias bomb?)"),
        (LINE_BREAK_CASES[2][1], "unsupported line break: NEL (U+0085)"),
    ],
    ids=["redefined-anchor-bomb", "billion-laughs", "nel"],
)
def test_krm_refuses_what_apply_refuses_fast(content: bytes, message: str) -> None:
    started = time.monotonic()
    code, out, err = _krm(_resource_list(content))
    elapsed = time.monotonic() - started
    assert (code, out) == (1, b"")
    assert err.startswith("winfix krm: error: stdin is not a ResourceList: <ResourceList>:")
    assert message in err
    assert len(err.splitlines()) == 1
    assert elapsed < 1, f"took {elapsed:.1f}s"


def test_krm_stdin_over_the_size_limit_is_refused_unread() -> None:
    item = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: " + (
        b"x" * (2 * 1024 * 1024) + b"\n"
    )
    out, err = io.BytesIO(), io.StringIO()
    code = krm.run(io.BytesIO(_resource_list(item)), out, err, max_bytes=1024 * 1024)
    assert (code, out.getvalue()) == (1, b"")
    assert err.getvalue() == (
        "winfix krm: error: <stdin>:1:1: input is larger than the 1 MiB limit "
        "(the default of winfix apply --max-size)\n"
    )
    ok, ok_out, ok_err = _krm(_resource_list(item))
    assert (ok, ok_err) == (0, "")
    assert ok_out.startswith(_resource_list(item))


def test_krm_default_limit_is_apply_s_64_mib() -> None:
    started = time.monotonic()
    code, out, err = _krm(b"#" * (64 * 1024 * 1024 + 1))
    assert (code, out) == (1, b"")
    assert err == (
        "winfix krm: error: <stdin>:1:1: input is larger than the 64 MiB limit "
        "(the default of winfix apply --max-size)\n"
    )
    assert time.monotonic() - started < 2
