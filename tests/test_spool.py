"""Output held back until the run's outcome is known (winfix.spool), and the Helm
post-renderer that holds its stdout and stderr in spools (issue 16: peak RSS).

A spool that rolls over to its temporary file must give back exactly what a run
that kept everything in memory gives: the same manifests, stderr and exit code,
under Helm 3 and under Helm 4 (whose failure is one error document)."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import FakeStdin
from winfix import postrender, spool
from winfix.spool import Spool, TextSpool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from generate import bundle  # bench/ is a directory of scripts, not a package

REPO = Path(__file__).resolve().parents[1]


def test_a_spool_gives_back_what_was_written_in_memory_and_on_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spool, "CHUNK", 7)
    parts = [b"abc", bytearray(b"defgh"), memoryview(b"ijklmnopqrstu"), b"", b"vwxyz" * 9]
    small, large = Spool(1 << 20, "x"), Spool(10, "x")
    for part in parts:
        assert small.write(part) == large.write(part) == len(part)
    assert not small.on_disk and large.on_disk
    expected = b"".join(bytes(part) for part in parts)
    assert b"".join(small.chunks()) == b"".join(large.chunks()) == expected
    assert max(map(len, large.chunks())) == 7


def test_a_text_spool_joins_characters_split_between_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spool, "CHUNK", 3)
    text = "naïve — 日本語 ✓ \udcff end\n" * 5  # a lone surrogate, as 'surrogateescape' makes
    written = TextSpool()
    for line in text.splitlines(keepends=True):
        written.write(line)
    assert written.getvalue() == text
    assert not written.isatty()


def test_a_full_disk_under_a_spool_names_what_it_holds(
    tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_tmpfs))
    manifests = Spool(10, "the rendered manifests")
    with pytest.raises(OSError, match="the temporary file that holds the rendered manifests"):
        manifests.write(b"y" * 200_000)


def _post_render(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes], data: bytes,
    *args: str,
) -> tuple[int, bytes, str]:
    capsysbinary.readouterr()
    monkeypatch.setattr(sys, "stdin", FakeStdin(data))
    code = postrender.main(list(args))
    captured = capsysbinary.readouterr()
    # Helm 4's error document names a report file of its own run.
    out = re.sub(rb"winfix-helm-report-\w+\.txt", b"REPORT", captured.out)
    return code, out, captured.err.decode("utf-8")


INPUTS = {
    "fixed": bundle(300).encode(),
    "blocked": (REPO / "fixtures/WIN100/privileged-deployment/input.yaml").read_bytes()
    + b"---\n" + bundle(100).encode(),
    "unreadable": b"kind: [\n",
}


@pytest.mark.parametrize("host", ["helm3", "helm4"])
@pytest.mark.parametrize("args", [(), ("apply", "--show-fixes", "-")], ids=["plain", "options"])
@pytest.mark.parametrize("stream", sorted(INPUTS))
def test_the_post_renderer_answers_the_same_with_its_output_on_disk(  # noqa: PLR0917
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes],
    tmp_path: Path, host: str, args: tuple[str, ...], stream: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(postrender.HOST_ENV, host)
    reference = _post_render(monkeypatch, capsysbinary, INPUTS[stream], *args)
    monkeypatch.setattr(postrender, "CAPTURED_IN_MEMORY", 100)
    rolled: list[Spool] = []
    real_roll_over = Spool._roll_over

    def roll_over(self: Spool) -> None:
        rolled.append(self)
        real_roll_over(self)

    monkeypatch.setattr(Spool, "_roll_over", roll_over)
    spooled = _post_render(monkeypatch, capsysbinary, INPUTS[stream], *args)
    assert spooled == reference
    assert bool(rolled) is (stream != "unreadable")  # the output did go to disk
    assert reference[0] == {"fixed": 0, "blocked": 1, "unreadable": 2}[stream] or (
        host == "helm4" and reference[0] == 0 and b"winfix" in reference[1]
    )
    if stream == "fixed":
        assert reference[1].count(b"kubernetes.io/os: windows") >= 150


def test_a_full_disk_under_the_post_renderers_output_is_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes],
    tiny_tmpfs: Path,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_tmpfs))
    monkeypatch.setattr(postrender, "CAPTURED_IN_MEMORY", 100)
    monkeypatch.delenv(postrender.HOST_ENV, raising=False)
    code, out, err = _post_render(monkeypatch, capsysbinary, bundle(400).encode())
    assert (code, out) == (2, b"")
    assert err.splitlines() == [
        "winfix: error: cannot write to stdout: No space left on device (the temporary file "
        f"that holds the rendered manifests, in {tiny_tmpfs}; TMPDIR names another directory)",
        "winfix: 0 fixed, 0 of 0 files changed, 1 unreadable",  # as `winfix apply -` says it
    ]
