"""Outputs are complete or reported, files are replaced atomically, walks see everything.

Issue 13 items 6-9: short writes on a full disk, temporary files after kill -9, files
that change while winfix runs, unreadable folders, FIFOs, symlinks out of the tree,
owners and hard links. Full disks are real where possible (/dev/full, a 64 KiB tmpfs
when this process may mount one) and fake writers that fail midway otherwise.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS, CliResult
from winfix import (
    chunks,
    files,
    findinglog,
    krm,
    kustomize_plugin,
    pipeline,
    regions,
    registry,
    reporting,
    runner,
    spilllist,
)
from winfix.config import Settings
from winfix.rules import Rule
from winfix.source import Encoding, encode, encode_chunks

Cli = Callable[..., CliResult]
SELECT = ("--select", "WIN001,WIN002,WIN005")

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeSelector:
    kubernetes.io/os: linux
  containers:
    - name: web
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""
POD_FIXED = POD.replace("os: linux", "os: windows") + (
    "  os:\n    name: windows\n"
    "  tolerations:\n"
    "    - key: os\n      operator: Equal\n      value: windows\n      effect: NoSchedule\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".winfix"))


def console(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip(f"the {name} console script is not installed next to this Python")
    return str(path)


class FullDisk(io.RawIOBase):
    """A stream that takes ``room`` bytes, answers the next write short, then ENOSPC.

    That is what a nearly full disk does, and what BufferedWriter passes on as a
    short count instead of an exception.
    """

    def __init__(self, room: int) -> None:
        self.room = room
        self.got = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        taken = chunk[: self.room]
        self.room -= len(taken)
        self.got += taken
        return len(taken)


def big_stream() -> bytes:
    return ("---\n" + POD).encode() * 3000  # about 600 KB out


# -- item 6: short writes ---------------------------------------------------------------------


def test_stdout_that_fills_midway_is_exit_2_with_one_line(tmp_path: Path) -> None:
    disk = FullDisk(room=100_000)
    stream = io.BufferedWriter(disk)
    err = io.StringIO()
    code, summary = runner.run(["-"], _settings(), _rules(), runner.Options(quiet=True),
                               out=stream, err=err, stdin=io.BytesIO(big_stream()))
    assert code == 2
    assert err.getvalue() == "winfix: error: cannot write to stdout: No space left on device\n"
    assert len(disk.got) == 100_000  # what the disk took; the exit code says it is not all
    assert summary.errors == ["cannot write to stdout: No space left on device"]


def test_write_stream_retries_a_short_count_and_reports_the_failure() -> None:
    disk = FullDisk(room=10)
    with pytest.raises(files.OutputError) as caught:
        files.write_stream(io.BufferedWriter(disk, buffer_size=4), b"x" * 50)
    assert str(caught.value) == "cannot write to stdout: No space left on device"
    assert bytes(disk.got) == b"x" * 10


def test_write_chunks_retries_across_pieces_and_reports_the_failure() -> None:
    disk = FullDisk(room=45)
    with pytest.raises(files.OutputError) as caught:
        files.write_chunks(io.BufferedWriter(disk, buffer_size=4), [b"x" * 30, b"y" * 30])
    assert str(caught.value) == "cannot write to stdout: No space left on device"
    assert bytes(disk.got) == b"x" * 30 + b"y" * 15


@pytest.mark.parametrize(
    ("codec", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
     ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE)],
)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1 << 20])
def test_encoded_pieces_join_to_the_whole_encoding(codec: str, bom: bytes, size: int) -> None:
    text = "name: caf\u00e9 \U0001f433\r\n" * 5  # two-, four-byte and surrogate-pair chars
    encoding = Encoding(codec=codec, bom=bom)
    assert b"".join(encode_chunks([text], encoding, size)) == encode(text, encoding)
    pieces = [text[:3], "", text[3:20], text[20:21], text[21:]]
    assert b"".join(encode_chunks(pieces, encoding, size)) == encode(text, encoding)
    assert list(encode_chunks([""], encoding, size)) == ([bom] if bom else [])


def test_stdin_bytes_are_not_kept_once_decoded_a_files_are(tmp_path: Path) -> None:
    """A file replaced in place is checked against the bytes read (write_atomic's
    ``expect``); stdin is never replaced, so its bytes, a copy of the stream, go."""
    target = write(tmp_path / "pod.yaml", POD)
    stdin, on_disk = pipeline.process(
        ["-", str(target)], _settings(), _rules(), stdin=io.BytesIO(POD.encode())
    )
    assert stdin.ok and on_disk.ok
    assert stdin.loaded is None
    assert on_disk.loaded is not None and on_disk.loaded.data == POD.encode()
    assert stdin.result is not None and stdin.result.fixed == POD_FIXED


def test_utf16_stdin_comes_back_in_utf16_with_its_bom() -> None:
    out = io.BytesIO()
    data = codecs.BOM_UTF16_LE + POD.encode("utf-16-le")
    code, _ = runner.run(["-"], _settings(), _rules(), runner.Options(quiet=True),
                         out=out, err=io.StringIO(), stdin=io.BytesIO(data))
    assert (code, out.getvalue()) == (0, codecs.BOM_UTF16_LE + POD_FIXED.encode("utf-16-le"))


@pytest.mark.parametrize("mode", ["apply", "diff"])
def test_dev_full_stdout_is_exit_2(tmp_path: Path, mode: str) -> None:
    target = write(tmp_path / "pod.yaml", POD)
    args = ["apply", *SELECT, "-q", "-"] if mode == "apply" else [
        "apply", *SELECT, "-q", "--diff", str(target)]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([console("winfix"), *args], input=big_stream(), stdout=full,
                              stderr=subprocess.PIPE, check=False, timeout=120)
    assert (proc.returncode, proc.stderr) == (
        2, b"winfix: error: cannot write to stdout: No space left on device\n")
    assert target.read_text() == POD


def test_listing_on_dev_full_is_exit_2_not_an_internal_error() -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([console("winfix"), "rules"], stdout=full, stderr=subprocess.PIPE,
                              check=False, timeout=60)
    assert (proc.returncode, proc.stderr) == (
        2, b"winfix: error: cannot write: No space left on device\n")


def test_tmpfs_full_stdout_is_exit_2(tiny_tmpfs: Path) -> None:
    with open(tiny_tmpfs / "out.yaml", "wb") as out:
        proc = subprocess.run([console("winfix"), "apply", *SELECT, "-q", "-"],
                              input=big_stream(), stdout=out, stderr=subprocess.PIPE,
                              check=False, timeout=120)
    assert (proc.returncode, proc.stderr) == (
        2, b"winfix: error: cannot write to stdout: No space left on device\n")


def test_report_on_a_full_disk_keeps_the_old_report(tiny_tmpfs: Path, tmp_path: Path) -> None:
    report = tiny_tmpfs / "r.json"
    report.write_text('{"old": true}\n')
    (tiny_tmpfs / "fill").write_bytes(b"\0" * 40_000)
    big = write(tmp_path / "big.yaml", ("---\n" + POD) * 300)
    proc = subprocess.run([console("winfix"), "apply", *SELECT, "-q", "--check",
                           "--report", str(report), str(big)],
                          capture_output=True, check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1] == (
        f"winfix: error: cannot write report {report}: No space left on device")
    assert report.read_text() == '{"old": true}\n'
    assert temp_files(tiny_tmpfs) == []


def test_in_place_fix_on_a_full_disk_leaves_the_file_whole(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write(tmp_path / "pod.yaml", POD)
    real_write = os.write

    def half_then_full(fd: int, data: object) -> int:
        view = memoryview(data)  # type: ignore[arg-type]
        if len(view) > 20:
            return real_write(fd, view[:20])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "write", half_then_full)
    result = cli("apply", *SELECT, "-q", "pod.yaml")
    assert (result.code, result.err_lines) == (
        2, ["pod.yaml:1:1: cannot write: No space left on device"])
    assert target.read_text() == POD
    assert temp_files(tmp_path) == []


def test_krm_and_kustomize_plugin_report_a_failed_stdout() -> None:
    resource_list = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        + "".join("  - " + line + "\n" if i == 0 else "    " + line + "\n"
                  for i, line in enumerate(POD.splitlines()))
    ).encode()
    err = io.StringIO()
    code = krm.run(io.BytesIO(resource_list), io.BufferedWriter(FullDisk(10)), err)
    assert (code, err.getvalue()) == (
        2, "winfix krm: error: cannot write to stdout: No space left on device\n")
    err = io.StringIO()
    code = kustomize_plugin.run([], io.BytesIO(POD.encode()), io.BufferedWriter(FullDisk(10)), err)
    assert (code, err.getvalue()) == (
        2, "winfix kustomize plugin: error: cannot write to stdout: No space left on device\n")


def test_post_renderer_echo_on_dev_full_is_exit_2() -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([console("winfix-post-renderer")], input=b"---\n# empty\n" * 9000,
                              stdout=full, stderr=subprocess.PIPE, check=False, timeout=60)
    assert (proc.returncode, proc.stderr) == (
        2, b"winfix-post-renderer: error: cannot write to stdout: No space left on device\n")


# -- item 7: temporary files ------------------------------------------------------------------


def killed_in_fsync(target: Path, *, unnamed: bool) -> None:
    """A real kill -9 in the write phase: the child dies inside fsync, its data written."""
    child = (
        "import os, signal, sys\n"
        "from winfix import files\n"
        + ("" if unnamed else "files.os.O_TMPFILE = 0  # as on a file system without it\n")
        + "files.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "files.write_atomic(sys.argv[1], b'x' * 100000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", child, str(target)], check=False, timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_during_the_write_leaves_nothing_where_o_tmpfile_works(tmp_path: Path) -> None:
    try:
        os.close(os.open(tmp_path, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except (AttributeError, OSError) as exc:
        pytest.skip(f"no O_TMPFILE on this file system: {exc}")
    target = write(tmp_path / "pod.yaml", POD)
    killed_in_fsync(target, unnamed=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pod.yaml"]
    assert target.read_text() == POD  # the old content is whole


def test_kill_9_without_o_tmpfile_leaves_a_temp_file_the_next_run_removes(
    cli: Cli, tmp_path: Path
) -> None:
    target = write(tmp_path / "pod.yaml", POD)
    killed_in_fsync(target, unnamed=False)
    left = temp_files(tmp_path)
    assert len(left) == 1 and files.TEMP_NAME.match(left[0])
    assert target.read_text() == POD  # the old content is whole
    fresh = tmp_path / ".pod.yaml.0123abcd.winfix"  # a live run's, just written: kept
    fresh.write_text("live")
    foreign = [tmp_path / ".pod.yaml.0123abcd.winfix.bak", tmp_path / ".pod.yaml.XYZ.winfix",
               tmp_path / "pod.yaml.0123abcd.winfix"]
    for path in foreign:
        path.write_text("not winfix's")
    old = time.time() - files.STALE_AFTER - 60
    for path in [tmp_path / left[0], *foreign]:
        os.utime(path, (old, old))
    files._CLEANED.clear()
    assert cli("apply", *SELECT, "-q", "pod.yaml").code == 0
    assert target.read_text() == POD_FIXED
    assert sorted(temp_files(tmp_path)) == sorted(
        [fresh.name, "pod.yaml.0123abcd.winfix", ".pod.yaml.XYZ.winfix"])
    assert all(p.exists() for p in foreign)


@pytest.mark.slow
def test_kill_9_at_any_moment_of_whole_runs_leaves_old_or_new_and_no_temp_file(
    tmp_path: Path,
) -> None:
    """The probe's experiment: kill -9 a real `winfix apply` on a big file, 12 times,
    at moments spread over a whole run (measured first: the machine is shared)."""
    original = ("---\n" + POD) * 10_000  # 2.2 MB
    fixed = ("---\n" + POD_FIXED) * 10_000
    target = tmp_path / "big.yaml"
    command = [console("winfix"), "apply", *SELECT, "-q", "--isolated", str(target)]
    target.write_text(original)
    started = time.monotonic()
    assert subprocess.run(command, check=False, timeout=300).returncode == 0
    whole = time.monotonic() - started
    assert target.read_text() == fixed
    seen = set()
    for trial in range(12):
        target.write_text(original)
        proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        time.sleep(whole * (0.1 + trial * 0.09))  # from parsing to just after the rename
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        content = target.read_text()
        assert content in (original, fixed), f"trial {trial}: torn file"
        seen.add("new" if content == fixed else "old")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml"], f"trial {trial}"
    assert "old" in seen  # some kills landed before the rename


# -- item 8: files that change under the run --------------------------------------------------


@pytest.mark.parametrize("reading", ["whole", "in chunks"])
@pytest.mark.parametrize("change", ["append", "replace", "same-size rewrite", "remove"])
def test_a_file_changed_while_winfix_runs_is_not_replaced(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, reading: str
) -> None:
    """Read in chunks (winfix.chunks: a large file), the file is compared with its spool."""
    target = write(tmp_path / "pod.yaml", POD)
    other = POD.replace("name: web\nspec", "name: wab\nspec")  # same size
    adding = "add" if reading == "whole" else "add_chunked"
    if reading == "in chunks":
        monkeypatch.setattr(chunks, "CHUNKED_PAST", 0)
    real_add = getattr(pipeline.Run, adding)

    def fix_while_someone_writes(*args: object, **kwargs: object) -> object:
        result = real_add(*args, **kwargs)  # type: ignore[arg-type]
        stamp = target.stat()
        if change == "append":
            with open(target, "a") as handle:
                handle.write("# appended by another writer\n")
        elif change == "replace":
            write(tmp_path / "new", other)
            os.replace(tmp_path / "new", target)
        elif change == "same-size rewrite":  # same inode, size and mtime: only content tells
            with open(target, "r+") as handle:
                handle.write(other)
            os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        else:
            target.unlink()
        return result

    monkeypatch.setattr(pipeline.Run, adding, fix_while_someone_writes)
    result = cli("apply", *SELECT, "-q", "pod.yaml")
    assert result.code == 2
    if change == "remove":
        assert result.err_lines == [
            "pod.yaml:1:1: cannot write: removed while winfix ran; nothing written"]
        assert not target.exists()
    else:
        assert result.err_lines == [
            "pod.yaml:1:1: cannot write: changed while winfix ran; left as the other writer "
            "made it, nothing written: run winfix again"]
        expected = POD + "# appended by another writer\n" if change == "append" else other
        assert target.read_text() == expected
    assert temp_files(tmp_path) == []


# -- item 9: walking ---------------------------------------------------------------------------


def test_unreadable_subfolder_is_an_error_not_a_silent_pass(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "m" / "a.yaml", POD_FIXED)
    write(tmp_path / "m" / "locked" / "b.yaml", POD)
    real_scandir = os.scandir

    def scandir(path: object) -> object:  # root reads everything: simulate mode 000
        if Path(str(path)).name == "locked":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(files.os, "scandir", scandir)
    result = cli("apply", *SELECT, "--check", "m")
    assert result.code == 2
    assert result.err_lines == [
        "m/locked:1:1: cannot read directory: Permission denied",
        "winfix: 0 fixable, 0 of 1 file would change, 1 unreadable",
    ]


def test_unreadable_subfolder_as_an_unprivileged_user(tmp_path: Path) -> None:
    setpriv = "/usr/bin/setpriv"
    if os.geteuid() != 0 or not os.path.exists(setpriv):
        pytest.skip("needs root and setpriv to drop privileges (the monkeypatched test covers it)")
    write(tmp_path / "m" / "a.yaml", POD_FIXED)
    locked = write(tmp_path / "m" / "locked" / "b.yaml", POD).parent
    tmp_path.chmod(0o755)
    for path in (tmp_path / "m", tmp_path / "m" / "a.yaml", locked / "b.yaml"):
        os.chown(path, 65534, 65534)
    locked.chmod(0o000)
    proc = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", console("winfix"),
         "apply", *SELECT, "--check", "--isolated", "m"],
        cwd=tmp_path, capture_output=True, check=False, timeout=60,
    )
    locked.chmod(0o755)
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines() == [
        "m/locked:1:1: cannot read directory: Permission denied",
        "winfix: 0 fixable, 0 of 1 file would change, 1 unreadable",
    ]


def test_fifo_named_yaml_is_skipped_with_a_note(tmp_path: Path) -> None:
    write(tmp_path / "m" / "a.yaml", POD)
    os.mkfifo(tmp_path / "m" / "pipe.yaml")
    proc = subprocess.run([console("winfix"), "apply", *SELECT, "--isolated", "m"],
                          cwd=tmp_path, capture_output=True, check=False, timeout=60)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 0
    assert "m/pipe.yaml: skipped: not a regular file (FIFO, socket or device)" in lines
    assert lines[-1] == "winfix: 3 fixed, 1 of 1 file changed, 1 skipped"
    assert (tmp_path / "m" / "a.yaml").read_text() == POD_FIXED
    assert stat.S_ISFIFO((tmp_path / "m" / "pipe.yaml").stat().st_mode)


def test_a_fifo_that_appears_after_the_walk_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "late.yaml")
    with pytest.raises(files.Skipped, match="not a regular file"):
        files.load(files.Target(str(tmp_path / "late.yaml"), walked=True))


def test_symlink_leaving_the_tree_is_not_written_through(cli: Cli, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.yaml", POD)
    inside = write(tmp_path / "m" / "real.yaml", POD)
    (tmp_path / "m" / "out.yaml").symlink_to(outside)
    (tmp_path / "m" / "in.yaml").symlink_to(inside)
    result = cli("apply", *SELECT, "-q", "m")
    assert result.code == 0
    assert result.err == ""
    assert outside.read_text() == POD
    assert inside.read_text() == POD_FIXED  # through the link inside the tree, or itself
    assert (tmp_path / "m" / "out.yaml").is_symlink() and (tmp_path / "m" / "in.yaml").is_symlink()
    noisy = cli("apply", *SELECT, "m")
    assert (
        "m/out.yaml: skipped: symbolic link that leads out of the tree being walked: not read, "
        "not written through"
    ) in noisy.err_lines
    assert outside.read_text() == POD


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_in_place_fix_keeps_owner_and_group(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "pod.yaml", POD)
    os.chown(target, 1234, 5678)
    target.chmod(0o640)
    assert cli("apply", *SELECT, "-q", "pod.yaml").code == 0
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o640)
    assert target.read_text() == POD_FIXED


def test_hard_linked_file_is_refused_and_both_names_keep_their_content(
    cli: Cli, tmp_path: Path
) -> None:
    target = write(tmp_path / "pod.yaml", POD)
    os.link(target, tmp_path / "twin.yaml")
    result = cli("apply", *SELECT, "-q", "pod.yaml")
    assert (result.code, result.err_lines) == (2, [
        "pod.yaml:1:1: cannot write: has 2 hard links; replacing it would leave the other links "
        "with the old content: give it a name of its own (cp, then mv over it) first"])
    assert target.read_text() == POD
    assert os.path.samefile(target, tmp_path / "twin.yaml")


def test_corpus_file_through_a_full_tmpfs_is_never_exit_0(tiny_tmpfs: Path) -> None:
    source = CORPUS / "argoproj__argo-cd" / "manifests__install.yaml"
    if not source.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {source}")
        pytest.skip("the shared corpus is not beside the checkout")
    with open(source, "rb") as stdin, open(tiny_tmpfs / "out.yaml", "wb") as out:
        proc = subprocess.run([console("winfix"), "apply", "-q", "-"], stdin=stdin, stdout=out,
                              stderr=subprocess.PIPE, check=False, timeout=300)
    assert (proc.returncode, proc.stderr) == (
        2, b"winfix: error: cannot write to stdout: No space left on device\n")


def _settings() -> Settings:
    return Settings()


def _rules() -> tuple[Rule, ...]:
    return tuple(registry.get(rule) for rule in ("WIN001", "WIN002", "WIN005"))


# What a run holds back in an anonymous temporary file, and the limit past which it goes
# there: set low, so that a 600 KB stream goes to disk.
SPOOLED = {
    "the input": (chunks, "CHUNKED_PAST", 1000),  # stdin, read in chunks
    "the fixed documents": (regions, "SPOOL_AFTER", 1),
    "the findings": (findinglog, "SPILL_AFTER", 1),
    "the workloads": (spilllist, "SPILL_AFTER", 1),  # their records, then verdicts
}


@pytest.mark.parametrize("holds", sorted(SPOOLED))
def test_a_full_disk_under_a_temporary_file_is_exit_2_with_one_line_and_no_output(
    cli: Cli, tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch, holds: str
) -> None:
    """A large stream's input, fixed documents, findings and workload records wait in
    temporary files (winfix.chunks, winfix.regions, winfix.findinglog,
    winfix.spilllist): each fills a real 64 KiB tmpfs with an error that names it, and
    stdout gets nothing."""
    module, limit, value = SPOOLED[holds]
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_tmpfs))
    monkeypatch.setattr(module, limit, value)
    result = cli("apply", *SELECT, "-q", "-", stdin=big_stream())
    assert (result.code, result.out, result.err_lines) == (2, b"", [
        "winfix: error: cannot write: No space left on device (the temporary file that "
        f"holds {holds}, in {tiny_tmpfs}; TMPDIR names another directory)"
    ])


@pytest.mark.parametrize("output_format", ["json", "sarif", "github"])
def test_a_report_that_fails_to_be_made_leaves_nothing_on_the_streams(
    output_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports are made in pieces, all of them before any is written: should making one
    fail (a bug, exit 3), no part of the report reaches stdout (`winfix check`) or stderr
    (`apply -`, whose stdout is the stream), so nothing that does not parse is left."""
    def failing(summary: object, *args: object) -> Iterator[str]:
        yield '{"findings": ['
        raise RuntimeError("a bug while making the report")

    monkeypatch.setattr(reporting, "_json_chunks", failing)
    monkeypatch.setattr(reporting, "_sarif_chunks", failing)
    monkeypatch.setattr(reporting, "github_lines", failing)
    for mode, stream in ((runner.Mode.CHECK, "stdout"), (runner.Mode.APPLY, "stderr")):
        out, err = io.BytesIO(), io.StringIO()
        options = runner.Options(mode=mode, output_format=output_format, quiet=True)
        with pytest.raises(RuntimeError):
            runner.run(["-"], _settings(), _rules(), options, out=out, err=err,
                       stdin=io.BytesIO(POD.encode()))  # fmt: skip
        report = out.getvalue().decode() if stream == "stdout" else err.getvalue()
        assert "findings" not in report and "::" not in report, (mode, report)


def test_a_full_disk_under_a_report_on_a_stream_names_the_temporary_file(
    cli: Cli, tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_tmpfs))
    monkeypatch.setattr(runner, "REPORT_IN_MEMORY", 1)
    result = cli("check", "--isolated", "--output-format", "json", "-", stdin=big_stream())
    assert (result.code, result.out) == (2, b"")
    assert result.err_lines[-1] == (
        "winfix: error: cannot write to stdout: No space left on device (the temporary file "
        f"that holds the report, in {tiny_tmpfs}; TMPDIR names another directory)"
    )
