"""A large stream is read in chunks (winfix.chunks) and answers as it does whole.

Chunked: an input past ``CHUNKED_PAST``, on stdin or a file (fixed in place too),
alone or one of several.

Every input here is run twice through the same command line in-process: read whole
(the default for small input), and read in chunks with ``CHUNKED_PAST`` at 0, in
chunks of one document each (``CHUNK`` = 1 byte: a cut at every marker that allows
one) and of about 2 KB. Exit code, stdout and stderr must be equal byte for byte.
The inputs are the corpus, the rules' fixtures, the examples, the reliability
reproducers and a generated bundle; the commands the front ends that read stdin
run: ``apply -``, ``--unsafe-fixes``, ``--diff``, ``check``'s JSON and SARIF, and
``--on-blocked pin-linux`` (each file is read again with its blocked workloads kept
on Linux).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tests.conftest import REPO, REPRO, CliResult, corpus_files
from winfix import chunks, spool, yamltree
from winfix.chunks import ChunkedText, NotChunkable
from winfix.engine import FileResult, Run, RunFile
from winfix.images.lookup import ImageLookup
from winfix.regions import Region

sys.path.insert(0, str(REPO / "bench"))
from generate import bundle

COMMANDS = {
    "apply": ["apply", "--isolated", "-"],
    "unsafe": ["apply", "--isolated", "--unsafe-fixes", "-"],
    "diff": ["apply", "--isolated", "--diff", "-"],
    "json": ["check", "--isolated", "--output-format", "json", "-"],
    "sarif": ["check", "--isolated", "--output-format", "sarif", "-"],
    "pin": ["apply", "--isolated", "--on-blocked", "pin-linux", "-"],
}


def _local_inputs() -> list[Path]:
    found = sorted(REPO.glob("fixtures/*/*/input.yaml")) + sorted(REPO.glob("examples/**/*.yaml"))
    return found + (sorted(REPRO.glob("*.yaml")) if REPRO.is_dir() else [])


Runner = Callable[..., CliResult]


def _both(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, argv: list[str], data: bytes, chunk: int
) -> tuple[CliResult, CliResult]:
    monkeypatch.setattr(chunks, "CHUNKED_PAST", 1 << 40)
    whole = cli(*argv, stdin=data)
    monkeypatch.setattr(chunks, "CHUNKED_PAST", 0)
    monkeypatch.setattr(chunks, "CHUNK", chunk)
    return whole, cli(*argv, stdin=data)


def _differences(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, paths: list[Path], command: str, chunk: int
) -> list[str]:
    found = []
    for path in paths:
        whole, chunked = _both(cli, monkeypatch, COMMANDS[command], path.read_bytes(), chunk)
        assert whole.code != 3, whole.err
        if (whole.code, whole.out, whole.err) != (chunked.code, chunked.out, chunked.err):
            found.append(f"{path.name}: exit {whole.code}/{chunked.code}\n{chunked.err[-2000:]}")
    return found


@pytest.mark.parametrize("chunk", [1, 2048])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_corpus_reads_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, command: str, chunk: int
) -> None:
    paths = corpus_files()
    assert len(paths) > 30
    assert _differences(cli, monkeypatch, paths, command, chunk) == []


@pytest.mark.parametrize("command", ["apply", "json", "diff"])
def test_the_local_inputs_read_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    paths = _local_inputs()
    assert len(paths) > 100
    assert _differences(cli, monkeypatch, paths, command, 1) == []


@pytest.mark.parametrize("flags", [[], ["--dns"], ["--only-deployments"]])
def test_a_generated_bundle_reads_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, flags: list[str]
) -> None:
    data = bundle(
        400, dns="--dns" in flags, only_deployments="--only-deployments" in flags
    ).encode()
    for command in ("apply", "diff", "json", "pin"):
        whole, chunked = _both(cli, monkeypatch, COMMANDS[command], data, 1)
        assert whole.code == chunked.code
        assert whole.out == chunked.out
        assert whole.err == chunked.err


def _stream(count: int, *, services: bool = False) -> str:
    """``count`` Deployments of the bench's (``bench/generate.py``: a ``# Source:`` comment
    after each ``---``), each after its Service with ``services`` (WIN203 leaves a check
    of each Service for the end of the run)."""
    return bundle(2 * count, only_deployments=False) if services else bundle(
        count, only_deployments=True
    )


# Streams that read differently in chunks, or not at all: each is read whole after the
# chunked read finds it out, and says what the whole read says.
ODD = {
    "yaml error in a later chunk": _stream(3) + "---\nkind: [unclosed\n" + _stream(2),
    "tab in a later chunk": _stream(3) + "---\na:\n\tb: 1\n",
    "template in a later chunk": _stream(3) + "---\nimage: {{ .Values.image }}\n",
    "no resource": "---\na: 1\n---\nb: 2\n",
    "comments only": "# nothing\n---\n# here\n",
    "explicit ends": _stream(2).replace("---\n# Source", "...\n# Source: x\n---\n# Source"),
    "directives": "%YAML 1.1\n" + _stream(1) + "...\n%YAML 1.1\n" + _stream(1),
    "an escaped Service": _stream(2)
    + '---\napiVersion: v1\nkind: "Serv\\x69ce"\nmetadata:\n  name: web\nspec:\n'
    "  selector:\n    app: web\n  ports:\n  - port: 80\n    protocol: SCTP\n",
    "crlf": _stream(3).replace("\n", "\r\n"),
    "lone cr in a later chunk": _stream(3) + "---\na: 1\rb: 2\n",
}
ODD_BYTES = {
    "invalid UTF-8 in a later chunk": _stream(3).encode() + b"---\na: \xff\n",
    "NUL in a later chunk": _stream(3).encode() + b"---\na: \x00\n",
    "UTF-16": "\ufeff".encode("utf-16-le") + _stream(3).encode("utf-16-le"),
    "UTF-8 BOM": b"\xef\xbb\xbf" + _stream(3).encode(),
}


@pytest.mark.parametrize("name", sorted(ODD) + sorted(ODD_BYTES))
@pytest.mark.parametrize("command", ["apply", "diff", "json", "pin"])
def test_a_stream_that_reads_differently_in_chunks_answers_as_whole(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, name: str, command: str
) -> None:
    data = ODD_BYTES[name] if name in ODD_BYTES else ODD[name].encode()
    whole, chunked = _both(cli, monkeypatch, COMMANDS[command], data, 1)
    assert whole.code != 3, whole.err
    assert (chunked.code, chunked.out, chunked.err) == (whole.code, whole.out, whole.err)


def _spool(data: bytes) -> spool.Spool:
    held = spool.Spool(1 << 30, "test")
    held.write(data)
    return held


def _pieces(data: bytes, chunk: int) -> list[str]:
    return list(ChunkedText(_spool(data), "s.yaml", chunk=chunk).texts())


def test_a_stream_is_cut_before_each_document_start_marker() -> None:
    text = "a: 1\n---\nb: 2\n--- |\n  c\n---\n# d\n---\n"
    assert _pieces(text.encode(), 1) == ["a: 1\n", "---\nb: 2\n", "--- |\n  c\n", "---\n# d\n",
                                         "---\n"]
    assert _pieces(text.encode(), 12) == ["a: 1\n---\nb: 2\n", "--- |\n  c\n---\n# d\n", "---\n"]
    assert _pieces(text.encode(), 100) == [text]


def test_no_cut_follows_an_explicit_end_or_a_directive() -> None:
    """Comments after ``...`` are the next document's preamble (its ``# Source:``), and a
    directive belongs to the next document: neither is left behind in a chunk."""
    text = "a: 1\n...\n# Source: b\n\n---\nb: 2\n%YAML 1.1\n---\nc: 3\n---x\n---\td: 4\n"
    assert _pieces(text.encode(), 1) == [
        "a: 1\n...\n# Source: b\n\n---\nb: 2\n%YAML 1.1\n---\nc: 3\n---x\n", "---\td: 4\n",
    ]
    assert "".join(_pieces(text.encode(), 1)) == text


@pytest.mark.parametrize("shift", range(-6, 3))
def test_a_marker_across_the_look_through_window_is_found(shift: int) -> None:
    """The cut search reads 64 KiB at a time: a marker cut in two by a window's end is
    found in the next window, and only the first marker past ``chunk`` cuts."""
    lines = "a:\n" + "- x\n" * ((chunks._WINDOW + shift - 20) // 4)
    # the marker near the window's end, after a short line
    first = lines + "b" * ((chunks._WINDOW + shift) - len(lines) - 1) + "\n"
    assert len(first) == chunks._WINDOW + shift
    text = first + "---\nb: 1\n---\nc: 2\n"
    assert _pieces(text.encode(), 5) == [first, "---\nb: 1\n", "---\nc: 2\n"]
    assert _pieces(text.encode(), len(first) + 2) == [first + "---\nb: 1\n", "---\nc: 2\n"]


def test_chunks_know_where_they_start_in_the_stream() -> None:
    text = "é: 1\n---\nb: ü\n---\nc: 3\n"
    chunked = ChunkedText(_spool(text.encode()), "s.yaml", chunk=1)
    assert [(c.offset, c.line) for c in chunked.chunks()] == [(0, 0), (5, 1), (14, 3)]
    assert chunked.text() == text and len(chunked) == 3
    regions = [
        Region(0, 1, "e"), Region(12, 13, "u"), Region(14, 14, "#\n"), Region(23, 23, "d: 4\n"),
    ]
    assert "".join(chunked.spliced(regions)) == "e: 1\n---\nb: u\n#\n---\nc: 3\nd: 4\n"
    result = FileResult("s.yaml", chunked, regions=regions)
    assert result.changed and result.fixed == "".join(chunked.spliced(regions))
    assert result.original == text
    assert not FileResult("s.yaml", chunked).changed


def test_a_chunk_that_is_not_utf8_alone_makes_the_stream_read_whole() -> None:
    with pytest.raises(NotChunkable):
        list(ChunkedText(_spool(b"a: 1\n---\nb: \xff\n"), "s", chunk=1).chunks())
    utf16 = "\ufeffa: 1\n---\nb: 2\n".encode("utf-16-le")
    with pytest.raises(NotChunkable):
        list(ChunkedText(_spool(utf16), "s", chunk=1).chunks())


def test_a_chunk_done_with_leaves_the_checks_for_the_end_its_line_index_only() -> None:
    lines = yamltree.Lines("a: 1\nb: 2\n  c: 3\n", line_base=10, offset_base=100)
    kept = lines.positions_only()
    assert kept.text == "" and kept.position(13) == (12, 3) and kept.line_start(13) == 10
    assert [kept.position(i) for i in range(17)] == [lines.position(i) for i in range(17)]
    assert [kept.line_start(i) for i in range(17)] == [lines.line_start(i) for i in range(17)]
    assert (kept.line_base, kept.offset_base) == (10, 100)
    with pytest.raises(ValueError, match="gone"):
        kept.next_line_start(0)


_PEAK = """
import gc, io, sys, tracemalloc
from winfix import chunks, diffing, pipeline, policy
from winfix.settings import Settings
data = sys.stdin.buffer.read()
chunks.CHUNKED_PAST, chunks.CHUNK = (0, 1 << 16) if sys.argv[1] == "chunked" else (1 << 40, 0)
rules = policy.rules_for(Settings())
for _ in pipeline.process(["-"], Settings(), rules, stdin=io.BytesIO(data[:300])):
    pass  # what the first run imports (tempfile for the spools) is not measured
gc.collect()
tracemalloc.start()
before, _ = tracemalloc.get_traced_memory()
for processed in pipeline.process(["-"], Settings(), rules, stdin=io.BytesIO(data)):
    result = processed.result
    assert result is not None and processed.error is None
    if sys.argv[2] == "diff":
        pieces = diffing.unified_diff_pairs(result.pairs(), result.name)
    else:
        pieces = result.pieces()
    for _piece in pieces:
        pass
print(tracemalloc.get_traced_memory()[1] - before)
"""


def _peak(data: bytes, how: str, output: str) -> int:
    """tracemalloc's peak of `apply -` (``output`` "fixed") or `apply --diff` ("diff") on
    ``data`` through the pipeline, less the input, in a process of its own (a run leaves
    caches that change the next one's peak)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, how, output], input=data, capture_output=True,
        check=True, cwd=REPO,
    )
    return int(done.stdout)


@pytest.mark.parametrize("output", ["fixed", "diff"])
@pytest.mark.parametrize("services", [False, True])
def test_a_stream_read_in_chunks_holds_no_text_of_its_finished_chunks(
    services: bool, output: str
) -> None:
    """A stream of 1,000 of the bench's Deployments (1.3 MB; 1.5 MB with a Service each):
    read whole, its text is part of the peak (and the fixed text too, for its diff); read
    in chunks of 64 KB, and diffed a chunk at a time, the peak is below it by most of the
    text. The Services' checks left for the end keep their chunks' line index, not the
    text. (Findings stay in memory below 100,000, and the verdicts are the run's: what
    remains grows with the workloads.)"""
    data = _stream(1_000, services=services).encode()
    whole, chunked = _peak(data, "whole", output), _peak(data, "chunked", output)
    share = 0.6 if output == "fixed" else 2.0  # the diff: both texts, and their lines
    assert whole - chunked > share * len(data), (whole, chunked, len(data))


def test_stdin_past_max_size_is_refused_while_it_is_spooled(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNKED_PAST", 1000)
    data = _stream(1_000).encode()  # 1.3 MB
    assert len(data) > 1 << 20
    spooled = cli("check", "--isolated", "--max-size", "1", "-", stdin=data)
    monkeypatch.setattr(chunks, "CHUNKED_PAST", 1 << 40)
    whole = cli("check", "--isolated", "--max-size", "1", "-", stdin=data)
    assert (spooled.code, spooled.out, spooled.err) == (whole.code, whole.out, whole.err)
    assert spooled.code == 2 and "input is larger than the 1 MiB limit" in spooled.err


FILE_COMMANDS = {
    "check": ["check", "--isolated"],
    "check-json": ["check", "--isolated", "--output-format", "json"],
    "apply-check": ["apply", "--isolated", "--check"],
}


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_a_file_that_check_reads_answers_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    """A large file ``check`` names is read in chunks, as stdin is."""
    inputs = {p.name: p.read_bytes() for p in corpus_files()}
    inputs.update({f"{n}.yaml": t.encode() for n, t in ODD.items()})
    inputs.update({f"{n}.yaml": b for n, b in ODD_BYTES.items()})
    read: list[str] = []
    monkeypatch.setattr(Run, "add_chunked", _recording(Run.add_chunked, read))
    different = []
    for name, data in sorted(inputs.items()):
        path = tmp_path / name.replace(" ", "-")
        path.write_bytes(data)
        argv = [*FILE_COMMANDS[command], str(path)]
        monkeypatch.setattr(chunks, "CHUNKED_PAST", 1 << 40)
        whole = cli(*argv)
        monkeypatch.setattr(chunks, "CHUNKED_PAST", 0)
        monkeypatch.setattr(chunks, "CHUNK", 1)
        chunked = cli(*argv)
        if (whole.code, whole.out, whole.err) != (chunked.code, chunked.out, chunked.err):
            different.append(name)
    assert different == []
    assert len(read) == len(inputs)  # every one was read in chunks first


def _recording(method: Callable[..., RunFile], read: list[str]) -> Callable[..., RunFile]:
    def add_chunked(self: Run, chunked: ChunkedText, *args: object) -> RunFile:
        read.append(chunked.name)
        return method(self, chunked, *args)

    return add_chunked


@pytest.mark.parametrize("name", ["corpus", "odd"])
def test_a_file_fixed_in_place_in_chunks_is_written_as_whole(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    """``apply FILE`` reads a large file in chunks too and writes the same bytes in place
    (``files.write_atomic`` compares the file with the spool before replacing it:
    tests/test_io.py changes it under the run)."""
    inputs = {p.name: p.read_bytes() for p in corpus_files()} if name == "corpus" else {
        **{f"{n}.yaml": t.encode() for n, t in ODD.items()},
        **{f"{n}.yaml": b for n, b in ODD_BYTES.items()},
    }
    different = []
    for file, data in sorted(inputs.items()):
        outcome = {}
        for reading, past in (("whole", 1 << 40), ("chunked", 0)):
            monkeypatch.setattr(chunks, "CHUNKED_PAST", past)
            monkeypatch.setattr(chunks, "CHUNK", 1)
            path = tmp_path / reading / file.replace(" ", "-")
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            done = cli("apply", "--isolated", str(path))
            outcome[reading] = (done.code, done.out, done.err.replace(reading, "R"),
                                path.read_bytes())
        if outcome["whole"] != outcome["chunked"]:
            different.append(file)
    assert different == []




def _split_by_kind(text: str) -> dict[str, bytes]:
    """A bundle's Deployments and its Services as two files: the Services select, and the
    Deployments name (``--dns``), workloads and Services of the other file."""
    documents = ["---\n" + d for d in text.split("---\n")[1:]]
    return {
        f"{kind.lower()}s.yaml": "".join(d for d in documents if f"kind: {kind}\n" in d).encode()
        for kind in ("Deployment", "Service")
    }


SEVERAL_COMMANDS = {
    "apply": ["apply", "--isolated"],
    "diff": ["apply", "--isolated", "--diff"],
    "check-json": ["check", "--isolated", "--output-format", "json"],
    "unsafe-sarif": [
        "apply", "--isolated", "--unsafe-fixes", "--check", "--output-format", "sarif",
    ],
}


@pytest.mark.parametrize("command", sorted(SEVERAL_COMMANDS))
def test_the_files_of_a_run_of_several_answer_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    """Each large file of a run of several is read in chunks too: the corpus, the odd
    streams and a bundle cut in two by kind (WIN203 and WIN201 across files), in one run,
    answer as read whole, and ``apply`` writes the same bytes in place."""
    inputs = {p.name: p.read_bytes() for p in corpus_files()}
    inputs.update({f"{n}.yaml": t.encode() for n, t in ODD.items()})
    inputs.update({f"{n}.yaml": b for n, b in ODD_BYTES.items()})
    inputs.update(_split_by_kind(bundle(60, dns=True)))
    read: list[str] = []
    monkeypatch.setattr(Run, "add_chunked", _recording(Run.add_chunked, read))
    outcome = {}
    for reading, past in (("whole", 1 << 40), ("chunked", 0)):
        monkeypatch.setattr(chunks, "CHUNKED_PAST", past)
        monkeypatch.setattr(chunks, "CHUNK", 1)
        folder = tmp_path / reading
        folder.mkdir()
        for file, data in inputs.items():
            (folder / file.replace(" ", "-")).write_bytes(data)
        done = cli(*SEVERAL_COMMANDS[command], str(folder))
        written = {path.name: path.read_bytes() for path in folder.iterdir()}
        outcome[reading] = (
            done.code, done.out.replace(reading.encode(), b"R"), done.err.replace(reading, "R"),
            written,
        )
    assert outcome["whole"][0] != 3, outcome["whole"][2][-2000:]  # 2: the odd ones
    assert outcome["chunked"] == outcome["whole"]
    assert len(read) == len(inputs)  # the chunked run read every one in chunks first
    if command == "apply":  # the fixes were written, across the two files too
        assert outcome["whole"][3] != inputs
        assert b"kubernetes.io/os: windows" in outcome["whole"][3]["deployments.yaml"]


@pytest.mark.parametrize("name", ["UTF-8", "UTF-16", "invalid UTF-8 at the end"])
def test_the_images_are_looked_up_at_once_alike_in_chunks(
    cli: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    """With ``resolve-images``, the images a stream names are asked of the registries in
    one batch before the rules run, in the same order whole and in chunks, also when
    the stream is read whole after all (a chunk that does not decode alone), and none
    when it does not decode at all."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    corpus = "\n---\n".join(p.read_text(encoding="utf-8") for p in corpus_files())
    data = {
        "UTF-8": corpus.encode(),
        "UTF-16": ("\ufeff" + corpus).encode("utf-16-le"),  # read whole: one batch still
        "invalid UTF-8 at the end": corpus.encode() + b"---\na: \xff\n",  # none
    }[name]
    asked: list[list[str]] = []
    prefetch = ImageLookup.prefetch

    def recording(self: ImageLookup, refs: Iterable[str]) -> None:
        refs = list(dict.fromkeys(refs))  # what prefetch asks for: each image once
        if refs:
            asked.append(refs)
        prefetch(self, refs)

    monkeypatch.setattr(ImageLookup, "prefetch", recording)
    argv = ["apply", "--isolated", "--resolve-images", "--offline", "-"]
    whole, chunked = _both(cli, monkeypatch, argv, data, 1)
    assert (chunked.code, chunked.out, chunked.err) == (whole.code, whole.out, whole.err)
    half = len(asked) // 2
    assert len(asked) == 2 * half and asked[:half] == asked[half:]
    assert len(asked) == (0 if name.startswith("invalid") else 2)
    assert all(len(refs) > 20 for refs in asked)  # one batch, not image by image
