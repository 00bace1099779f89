"""`--emit-patches` output is emitted, owned and swapped in whole (issue 13 items 6, 13, 14).

Names that hold newlines, `#`, `:`, quotes or `---` cannot inject operations into a
patch; a symlinked `patches/` or a hand-written `kustomization.yaml` is never
overwritten (the latter only with --force); a failure mid-write leaves the previous
component as it was.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, CliResult
from tests.hostutil import winfix_fixed
from winfix import files, patches
from winfix.errors import WinfixError

Cli = Callable[..., CliResult]
REPRO = REPO.parent / "shared" / "repro" / "reliability"

POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  template:
    spec:
      hostPID: false
      containers: [{{name: c, image: nginx}}]
"""


def benign_ops() -> list[dict[str, object]]:
    """The operations for the same Deployment under a plain name: what a hostile name must give."""
    text = POD.format(name="web")
    [patch] = patches.diff_stream(text, winfix_fixed(text), "x.yaml").patches
    ops = json.loads(json.dumps(patch.ops))
    assert {"op": "remove", "path": "/spec/template/spec/hostPID"} in ops
    assert not any("hostNetwork" in op["path"] or "securityContext" in op["path"] for op in ops)
    return ops


def component_for(text: str, source: str, directory: Path, **kwargs: object) -> list[Path]:
    found = patches.diff_stream(text, winfix_fixed(text), source)
    return patches.write_component(found, directory, **kwargs)  # type: ignore[arg-type]


def loaded_ops(directory: Path) -> list[tuple[dict[str, str], list[dict[str, object]]]]:
    """(target, ops) of every patch, as Kustomize reads them, the target's name read back
    from the regular expression Kustomize takes it for; each patch's guard names the same
    resource, and the Flux copies agree."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    out = []
    entries = kustomization["patches"]
    for guard, entry in zip(entries[::2], entries[1::2], strict=True):
        text = (directory / entry["path"]).read_text()
        assert text.startswith("# ") and text.count("\n# ") == 0
        target, guarded = entry["target"], yaml.safe_load(guard["patch"])
        name = guarded["metadata"]["name"]
        assert re.fullmatch(target["name"], name) and not re.fullmatch(target["name"], name + "x")
        assert guarded == {"apiVersion": f"{target['group']}/{target['version']}",
                           "kind": target["kind"],
                           "metadata": {"name": name, "namespace": target["namespace"]}}
        out.append(({**target, "name": name}, yaml.safe_load(text)))
    flux = yaml.safe_load((directory / "flux-postrenderers.yaml").read_text())
    inline = flux["postRenderers"][0]["kustomize"]["patches"]
    assert inline[::2] == entries[::2]
    assert [p["target"] for p in inline[1::2]] == [e["target"] for e in entries[1::2]]
    assert [yaml.safe_load(p["patch"]) for p in inline[1::2]] == [ops for _, ops in out]
    return out


def tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): p.read_text()
            for p in sorted(directory.rglob("*")) if p.is_file()}


# -- item 13: nothing reaches YAML unescaped --------------------------------------------------


def test_the_reproducer_cannot_inject_operations(tmp_path: Path) -> None:
    repro = REPRO / "emit-patches-name-newline-injection.yaml"
    if not repro.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared reproducers are missing at {REPRO}")
        pytest.skip("../shared/repro is not beside the checkout")
    original = repro.read_text()
    # As written, hostPID: true blocks the workload: no patch at all is written for it.
    assert patches.diff_stream(original, winfix_fixed(original), str(repro)).patches == []
    # With a field winfix removes instead, the patch carries the name as data only.
    text = original.replace("hostPID: true", "hostPID: false")
    name = yaml.safe_load(text)["metadata"]["name"]
    out = tmp_path / "out"
    component_for(text, str(repro), out)
    [(target, ops)] = loaded_ops(out)
    assert target["name"] == name
    assert ops == benign_ops()  # no hostNetwork, no privileged container
    header = next((out / "patches").iterdir()).read_text().split("\n", 1)[0]
    assert header == "# Deployment shop/" + name.replace("\n", "\\n") + f" (from {repro})"


@pytest.mark.parametrize("name", [
    "web\n- op: add\n  path: /spec/template/spec/hostNetwork\n  value: true",
    "web # not a comment",
    "web: {x: 1}",
    "'web'\"q\"",
    "---\nkind: Secret",
    "web\r- op: add",
    "web\u2028- op: add\u2029x\x85y",
    "web\\n- op",
    "web\x7f\x1b[31m",
])
def test_hostile_resource_and_source_names_stay_data(tmp_path: Path, name: str) -> None:
    text = POD.format(name=json.dumps(name))
    source = f"dir/{name}.yaml"
    out = tmp_path / "out"
    component_for(text, source, out)
    [(target, ops)] = loaded_ops(out)
    assert target == {"group": "apps", "version": "v1", "kind": "Deployment", "name": name,
                      "namespace": "shop"}
    assert ops == benign_ops()
    [patch_file] = (out / "patches").iterdir()
    assert patch_file.name.startswith("deployment-shop-") and patch_file.name.endswith(".yaml")
    header = patch_file.read_text().split("\n", 1)[0]
    # One line that says it all, escaped as JSON would; libyaml reads it as a comment.
    assert header == (f"# Deployment shop/{patches.comment_text(name)} "
                      f"(from {patches.comment_text(source)})")
    assert all(ch not in header for ch in "\r\x85\u2028\u2029\x1b\x7f")


def test_a_very_long_name_gives_a_usable_file_name(tmp_path: Path) -> None:
    name = "a" * 253
    component_for(POD.format(name=name), "x.yaml", tmp_path / "out")
    [patch_file] = (tmp_path / "out" / "patches").iterdir()
    assert len(patch_file.name) <= 200


# -- item 14: the directory is winfix's, or it is not touched ---------------------------------


def test_symlinked_patches_folder_is_refused_and_its_files_survive(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.yaml").write_text("mine\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "patches").symlink_to(precious)
    with pytest.raises(WinfixError) as caught:
        component_for(POD.format(name="web"), "x.yaml", out, force=True)
    assert str(caught.value) == f"not writing patches to {out}: {out}/patches is a symbolic link"
    assert tree(precious) == {"keep.yaml": "mine\n"}
    assert sorted(p.name for p in out.iterdir()) == ["patches"]


def test_symlinked_kustomization_is_refused_even_with_force(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("resources: [a.yaml]\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "kustomization.yaml").symlink_to(outside)
    with pytest.raises(WinfixError) as caught:
        component_for(POD.format(name="web"), "x.yaml", out, force=True)
    assert str(caught.value) == (
        f"not writing patches to {out}: {out}/kustomization.yaml is a symbolic link")
    assert outside.read_text() == "resources: [a.yaml]\n"


def test_hand_written_kustomization_needs_force(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(POD.format(name="web"))
    out = tmp_path / "overlay"
    out.mkdir()
    (out / "kustomization.yaml").write_text("resources: [../base]\n")
    (out / "README.md").write_text("notes\n")
    refused = cli("apply", "--isolated", "--emit-patches", "overlay", "web.yaml")
    assert (refused.code, refused.err_lines) == (2, [
        "winfix: error: not writing patches to overlay: overlay/kustomization.yaml was not "
        "written by winfix (--force replaces them)"])
    assert tree(out) == {"kustomization.yaml": "resources: [../base]\n", "README.md": "notes\n"}
    forced = cli("apply", "--isolated", "-q", "--force", "--emit-patches", "overlay", "web.yaml")
    assert forced.code == 0, forced.err
    assert (out / "kustomization.yaml").read_text().startswith("# Generated by winfix")
    assert (out / "README.md").read_text() == "notes\n"  # not winfix's: left alone
    assert [ops for _, ops in loaded_ops(out)] == [benign_ops()]
    again = cli("apply", "--isolated", "-q", "--emit-patches", "overlay", "web.yaml")
    assert again.code == 0, again.err  # now it is winfix's own


def test_a_foreign_file_among_the_patches_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    component_for(POD.format(name="web"), "x.yaml", out)
    (out / "patches" / "mine.yaml").write_text("- op: remove\n  path: /x\n")
    with pytest.raises(WinfixError, match=r"out/patches/mine.yaml was not written by winfix"):
        component_for(POD.format(name="api"), "x.yaml", out)
    component_for(POD.format(name="api"), "x.yaml", out, force=True)
    assert sorted(tree(out)) == ["flux-postrenderers.yaml", "kustomization.yaml",
                                 "patches/deployment-shop-api.yaml"]


def test_bot_overlay_path_cannot_lead_out_of_the_worktree(tmp_path: Path) -> None:
    worktree = tmp_path / "tree"
    worktree.mkdir()
    (worktree / "overlay").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(WinfixError, match="overlay leads outside"):
        component_for(POD.format(name="web"), "x.yaml", worktree / "overlay", within=worktree)
    assert not (tmp_path / "elsewhere").exists()


# -- item 6: a failure leaves the previous component whole ------------------------------------


def test_full_disk_while_writing_keeps_the_previous_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    component_for(POD.format(name="web"), "x.yaml", out)
    before = tree(out)
    calls = {"n": 0}
    real_write = os.write

    def full_after_two(fd: int, data: object) -> int:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "write", full_after_two)
    with pytest.raises(WinfixError) as caught:
        component_for(POD.format(name="api"), "x.yaml", out)
    assert str(caught.value) == f"cannot write patches to {out}: No space left on device"
    assert tree(out) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "flux-postrenderers.yaml", "kustomization.yaml", "patches"]


def test_build_folders_a_killed_run_left_are_removed_when_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    component_for(POD.format(name="web"), "x.yaml", out)
    stale, fresh, other = (out / ".winfix-build.0123abcd", out / ".winfix-old.89abcdef",
                           out / ".winfix-build.keep")
    for folder in (stale, fresh, other):
        (folder / "patches").mkdir(parents=True)
    old = time.time() - files.STALE_AFTER - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    component_for(POD.format(name="web"), "x.yaml", out)
    assert not stale.exists()
    assert fresh.exists() and other.exists()


# -- the emitters themselves: NEL, LS and PS survive a dump -----------------------------------


@pytest.mark.parametrize("value", ["a\x85b", "web\u2028- op: add\u2029x", "it's\x85", "c\x1bd"])
def test_yaml_winfix_writes_reads_back_unchanged(value: str) -> None:
    from winfix import yamlout

    assert yaml.safe_load(yamlout.safe_dump({"m": value}, allow_unicode=True)) == {"m": value}


def test_krm_json_resource_list_keeps_line_separators_in_values() -> None:
    from winfix import krm

    name = "web\u0085- op: add\u2028x"
    item = yaml.safe_load(POD.format(name=json.dumps(name)))
    item["metadata"]["annotations"] = {"note": "keep\u2029this"}
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                     "items": [item]}
    outcome = krm.process(json.dumps(resource_list))
    [out_item] = yaml.safe_load(outcome.text)["items"]
    assert out_item["metadata"]["name"] == name
    assert out_item["metadata"]["annotations"]["note"] == "keep\u2029this"
    results = yaml.safe_load(outcome.text)["results"]
    assert results and all(r["resourceRef"]["name"] == name for r in results if "resourceRef" in r)
