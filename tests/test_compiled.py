"""The compiled build (``WINFIX_MYPYC=1``, hatch_build.py) answers as the pure one does.

The wheel is built from the checkout with this environment's mypy and C compiler (no
network) and installed in a fresh environment (tests/wheels.py); the pure side is the
checkout. Both run the same commands on the same inputs, from the same directory:
the corpus, the rules' fixtures, the reliability reproducers, the examples and a
generated bundle, through `apply -`, `apply --diff`, `check`'s JSON and SARIF reports,
the KRM function and the Kustomize plugin; their exit codes, stdout and stderr must be
equal byte for byte. Deep documents are the other risk: compiled functions recurse on
the C stack, outside Python's recursion limit, so the deepest documents winfix reads
are run through both as well.

Without a C compiler, Python's headers or mypy these tests skip; under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import zipfile
from collections.abc import Sequence
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS, REPO, REPRO, corpus_files
from tests.test_deep_documents import _deep, _resource_list
from tests.wheels import build_wheel, install_fresh, outside_checkout

pytestmark = pytest.mark.slow

sys.path.insert(0, str(REPO))
from hatch_build import COMPILED  # noqa: E402 - the build hook's list, from the checkout

sys.path.insert(0, str(REPO / "bench"))
from generate import bundle  # noqa: E402


def _cannot_compile() -> str | None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    if not Path(sysconfig.get_paths()["include"], "Python.h").is_file():
        return "no Python headers (Python.h)"
    if shutil.which("mypyc", path=str(Path(sys.executable).parent)) is None:
        return "mypy (mypyc) is not installed: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="module")
def compiled_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _cannot_compile()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the compiled build is tested under CI=true: {reason}")
        pytest.skip(f"cannot build the compiled wheel: {reason}")
    return build_wheel(tmp_path_factory.mktemp("compiled-wheel"), compiled=True)


@pytest.fixture(scope="module")
def compiled_env(compiled_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_fresh(compiled_wheel, tmp_path_factory.mktemp("compiled-venv"))


def _answer(
    python: Path | str, args: Sequence[str], stdin: bytes, cwd: Path
) -> tuple[int, bytes, bytes]:
    done = outside_checkout([str(python), *args], cwd=cwd, stdin=stdin, timeout=600)
    return done.returncode, done.stdout, done.stderr


def _alike(
    compiled_env: Path, args: Sequence[str], tmp_path: Path, stdin: bytes = b""
) -> tuple[int, bytes, bytes]:
    """Both builds' answer to one command line, which must be the same; that answer."""
    pure = _answer(sys.executable, args, stdin, tmp_path)
    compiled = _answer(compiled_env / "bin" / "python", args, stdin, tmp_path)
    for what, mine, theirs in zip(("exit code", "stdout", "stderr"), pure, compiled, strict=True):
        if mine != theirs:
            where = _first_difference(mine, theirs)
            pytest.fail(f"{' '.join(args)}: the builds' {what} differ: {where}")
    assert pure[0] != 3 and b"internal error" not in pure[2], pure[2].decode()[-2000:]
    return pure


def _first_difference(pure: object, compiled: object) -> str:
    if not isinstance(pure, bytes) or not isinstance(compiled, bytes):
        return f"pure {pure!r}, compiled {compiled!r}"
    for number, (mine, theirs) in enumerate(
        zip(pure.splitlines(), compiled.splitlines(), strict=False), 1
    ):
        if mine != theirs:
            return f"line {number}: pure {mine[:300]!r}, compiled {theirs[:300]!r}"
    return f"pure has {len(pure.splitlines())} lines, compiled {len(compiled.splitlines())}"


WINFIX = ["-m", "winfix"]
KRM = ["-c", "import sys; from winfix.__main__ import krm; sys.exit(krm())"]
REPORTS = {
    "check, JSON": ["check", "--isolated", "--output-format", "json"],
    "check, SARIF": ["check", "--isolated", "--output-format", "sarif"],
    "apply --diff": ["apply", "--isolated", "--diff"],
    "apply --unsafe-fixes --diff": ["apply", "--isolated", "--unsafe-fixes", "--diff"],
}


def _local_inputs() -> list[Path]:
    """The rules' fixtures' inputs, the examples and the reliability reproducers."""
    found = sorted(REPO.glob("fixtures/*/*/input.yaml")) + sorted(REPO.glob("examples/**/*.yaml"))
    return found + (sorted(REPRO.glob("*.yaml")) if REPRO.is_dir() else [])


def test_the_compiled_wheel_holds_every_compiled_module(compiled_wheel: Path) -> None:
    names = zipfile.ZipFile(compiled_wheel).namelist()
    assert "-cp3" in compiled_wheel.name and "none-any" not in compiled_wheel.name

    def extension(module: str) -> bool:
        return any(f"{module}{suffix}" in names for suffix in EXTENSION_SUFFIXES)

    rules = sorted(p.stem for p in (REPO / "transforms").glob("win*.py"))
    modules = [f"winfix/{name}" for name in COMPILED] + [f"winfix/transforms/{r}" for r in rules]
    assert len(rules) > 30
    assert [m for m in modules if not extension(m)] == []
    assert [m for m in modules if f"{m}.py" not in names] == []  # the sources stay beside
    assert [n for n in names if n.endswith(tuple(EXTENSION_SUFFIXES)) and "__mypyc" in n]


def test_the_compiled_build_is_the_one_that_runs(compiled_env: Path, tmp_path: Path) -> None:
    from winfix import __version__

    code, out, _ = _answer(compiled_env / "bin" / "winfix", ["--version"], b"", tmp_path)
    assert (code, out) == (0, f"winfix {__version__} (compiled with mypyc)\n".encode())
    code, out, _ = _answer(sys.executable, [*WINFIX, "--version"], b"", tmp_path)
    assert (code, out) == (0, f"winfix {__version__}\n".encode())
    where = _answer(
        compiled_env / "bin" / "python",
        ["-c", "import winfix.engine as e, winfix.transforms.win001_os_name as r; "
         "print(e.__file__); print(r.__file__)"], b"", tmp_path,
    )[1].decode().split()
    assert [str(compiled_env) in w and w.endswith(tuple(EXTENSION_SUFFIXES)) for w in where] == [
        True, True,
    ]


def test_compiled_rules_keep_their_documentation(compiled_env: Path, tmp_path: Path) -> None:
    """mypyc keeps no module docstring: the build sets each again (hatch_build.py)."""
    explained = _alike(compiled_env, [*WINFIX, "explain", "WIN001"], tmp_path)
    assert b"## What it does" in explained[1]
    assert b"```diff" in explained[1]
    _alike(compiled_env, [*WINFIX, "rules"], tmp_path)


@pytest.mark.parametrize("report", REPORTS.values(), ids=REPORTS.keys())
def test_the_corpus_is_answered_alike(
    report: list[str], compiled_env: Path, tmp_path: Path
) -> None:
    files = [str(p) for p in corpus_files()]
    if not files:
        pytest.skip(f"../shared/corpus is not laid out beside the checkout ({CORPUS})")
    code, out, _ = _alike(compiled_env, [*WINFIX, *report, *files], tmp_path)
    assert code == 1 and len(out) > 10_000  # the corpus has findings, fixes and blocked pods


@pytest.mark.parametrize("report", REPORTS.values(), ids=REPORTS.keys())
def test_the_local_inputs_are_answered_alike(
    report: list[str], compiled_env: Path, tmp_path: Path
) -> None:
    files = [str(p) for p in _local_inputs()]
    assert len(files) > 100
    code, out, _ = _alike(compiled_env, [*WINFIX, *report, *files], tmp_path)
    assert code in (1, 2) and out  # some reproducers are unreadable on purpose: exit 2


def test_each_corpus_file_is_answered_alike_on_stdin(compiled_env: Path, tmp_path: Path) -> None:
    """A stream alone (a run of one file: ``Run(single_file=True)``), and as the KRM
    function's ResourceList and the Kustomize plugin's input."""
    files = corpus_files()
    if not files:
        pytest.skip(f"../shared/corpus is not laid out beside the checkout ({CORPUS})")
    listed = 0
    for path in files:
        text = path.read_bytes()
        _alike(compiled_env, [*WINFIX, "apply", "-", "--isolated"], tmp_path, text)
        try:
            items = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
        except yaml.YAMLError:
            continue
        listed += 1
        resource_list = json.dumps(
            {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
        ).encode()
        _alike(compiled_env, KRM, tmp_path, resource_list)
        _alike(compiled_env, ["-m", "winfix.kustomize_plugin"], tmp_path, text)
    assert listed > 30


def test_a_generated_bundle_is_answered_alike(compiled_env: Path, tmp_path: Path) -> None:
    text = bundle(2_000).encode()
    code, out, err = _alike(compiled_env, [*WINFIX, "apply", "-"], tmp_path, text)
    assert code == 0 and b"kubernetes.io/os: windows" in out and b"WIN105" in err
    _alike(compiled_env, [*WINFIX, "check", "-", "--output-format", "json"], tmp_path, text)


def test_a_stream_read_in_chunks_with_its_verdicts_on_disk_is_answered_alike(
    compiled_env: Path, tmp_path: Path
) -> None:
    """Past ``chunks.CHUNKED_PAST`` stdin is read in chunks, and past
    ``spilllist.SPILL_AFTER`` the verdicts are pickled as tuples (a compiled class does
    not pickle): 12,000 Deployments and their Services (18 MB), both builds alike, through
    `apply -`, `check` JSON and `apply --diff` (diffed a chunk at a time)."""
    from winfix import chunks, spilllist

    text = bundle(24_000).encode()
    assert len(text) > chunks.CHUNKED_PAST
    code, out, err = _alike(compiled_env, [*WINFIX, "apply", "-"], tmp_path, text)
    assert code == 0 and out.count(b"kubernetes.io/os: windows") > spilllist.SPILL_AFTER
    assert err.count(b"\n") > 12_000 and b"winfix: 12000 workloads" in err
    _alike(compiled_env, [*WINFIX, "check", "-", "--output-format", "json"], tmp_path, text)
    # --diff of it a chunk at a time (diffing.unified_diff_pairs over FileResult.pairs)
    code, out, _ = _alike(compiled_env, [*WINFIX, "apply", "--diff", "-q", "-"], tmp_path, text)
    assert code == 1 and out.count(b"\n+        kubernetes.io/os: windows\n") == 12_000


DEEP = {
    "apply": [*WINFIX, "apply", "-"],
    "check, SARIF, with the schema": [*WINFIX, "check", "--output-format", "sarif", "-"],
    "diff": [*WINFIX, "apply", "--diff", "-"],
    "krm": KRM,
}


@pytest.mark.parametrize("command", DEEP.values(), ids=DEEP.keys())
def test_the_deepest_documents_are_answered_alike(
    command: list[str], compiled_env: Path, tmp_path: Path
) -> None:
    """As deep as libyaml reads (1,000 levels), written out or through an alias, a
    document is read; deeper, written out or through a chain of anchors, it is a
    one-line error."""
    krm = command is KRM
    deep = _deep(993 if krm else 995)  # a ResourceList nests its items 2 levels deeper

    def answer(text: str) -> tuple[int, bytes, bytes]:
        stdin = (_resource_list(text) if krm else text).encode()
        return _alike(compiled_env, command, tmp_path, stdin)

    unreadable = 1 if krm else 2  # a KRM function's error is exit 1
    for text in (deep, aliased := _aliased(deep, "args: *deep")):
        code, out, err = answer(text)
        assert code in (0, 1) and b"seLinuxOptions" in out + err  # WIN102's finding
    assert aliased.count("*deep") == 1
    code, _, err = answer(_aliased(deep, "{a: *deep}"))  # the innermost of the env value
    assert code == unreadable
    assert b"deeper than 1,000 levels once its aliases are expanded" in err
    assert answer(_deep(1010))[0] == unreadable


def _aliased(deep: str, alias: str) -> str:
    """``deep`` with its seLinuxOptions anchored as ``&deep`` and ``alias`` naming it:
    as a container's args (``args: *deep``, as deep as the anchor) or at the bottom of
    the env value (``{a: *deep}``, twice as deep)."""
    anchored = deep.replace("seLinuxOptions: {a:", "seLinuxOptions: &deep {a:", 1)
    if alias.startswith("args"):
        return anchored.replace("image: nginx\n", f"image: nginx\n        {alias}\n")
    before, _, after = anchored.rpartition("{a: 1}")
    return f"{before}{alias}{after}"

