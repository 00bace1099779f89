"""Which files a run reads and with which settings (winfix.selection, README "Choosing files")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    sidecar.istio.io/rewriteAppHTTPProbers: "true"  # Istio is in the run: WIN160 opts out
spec:
  containers:
    - name: app
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""


def fixed(cli: Cli, *flags: str) -> str:
    """What ``winfix apply FLAGS -`` makes of POD (the content a processed file gets)."""
    result = cli("apply", "-q", "--isolated", *flags, "-", stdin=POD.encode())
    assert (result.code, result.err) == (0, ""), result.err
    return result.out.decode()


def tree(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(POD)


def changed(root: Path) -> list[str]:
    """The manifests under ``root`` a run rewrote (sorted, relative)."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.yaml")
        if p.read_text() != POD and not p.name.startswith(".winfix")
    )


def apply(cli: Cli, *argv: str) -> CliResult:
    result = cli("apply", "-q", *argv)
    assert result.code == 0, result.err
    return result


# -- .gitignore and .ignore ----------------------------------------------------------------


def test_ignored_build_folder_is_not_processed(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n")
    tree(tmp_path, "build/out.yaml", "deploy/web.yaml", "deploy/build/x.yaml")
    apply(cli, ".")
    assert changed(tmp_path) == ["deploy/web.yaml"]  # build/ anywhere, as git reads it
    assert (tmp_path / "deploy/web.yaml").read_text() == fixed(cli)


def test_nested_gitignore_with_negation_and_anchored_pattern(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.gen.yaml\n/top.yaml\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/.gitignore").write_text("!keep.gen.yaml\n")
    (tmp_path / "app/.ignore").write_text("local-*.yaml\n")
    tree(tmp_path, "a.gen.yaml", "app/keep.gen.yaml", "app/other.gen.yaml", "top.yaml",
         "app/top.yaml", "app/local-x.yaml", "app/web.yaml")
    apply(cli, ".")
    assert changed(tmp_path) == ["app/keep.gen.yaml", "app/top.yaml", "app/web.yaml"]


def test_gitignore_of_the_repository_root_applies_to_a_walked_subfolder(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n")
    tree(tmp_path, "deploy/generated/a.yaml", "deploy/web.yaml")
    apply(cli, "deploy")
    assert changed(tmp_path) == ["deploy/web.yaml"]


def test_explicit_path_is_processed_even_when_ignored(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n")
    tree(tmp_path, "build/out.yaml", "build/other.yaml")
    apply(cli, "build/out.yaml")
    assert changed(tmp_path) == ["build/out.yaml"]


def test_no_respect_gitignore_walks_everything(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n")
    tree(tmp_path, "build/out.yaml", "web.yaml")
    apply(cli, "--no-respect-gitignore", ".")
    assert changed(tmp_path) == ["build/out.yaml", "web.yaml"]


def test_respect_gitignore_false_in_the_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / ".winfix.yaml").write_text("respect-gitignore: false\n")
    tree(tmp_path, "build/out.yaml")
    apply(cli, ".")
    assert changed(tmp_path) == ["build/out.yaml"]


# -- exclude and extend-exclude ------------------------------------------------------------


def test_exclude_and_extend_exclude_from_the_file_are_read_from_its_folder(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".winfix.yaml").write_text("extend-exclude: ['/vendor/', 'tmp-*.yaml']\n")
    tree(tmp_path, "vendor/a.yaml", "sub/vendor/b.yaml", "sub/tmp-1.yaml", "sub/web.yaml",
         "node_modules/x.yaml")
    monkeypatch.chdir(tmp_path / "sub")  # the patterns are the file's, not the cwd's
    apply(cli, str(tmp_path))
    assert changed(tmp_path) == ["sub/vendor/b.yaml", "sub/web.yaml"]


def test_exclude_replaces_the_default_list(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".winfix.yaml").write_text("exclude: ['old/']\n")
    tree(tmp_path, "node_modules/x.yaml", "old/a.yaml")
    apply(cli, ".")
    assert changed(tmp_path) == ["node_modules/x.yaml"]


def test_exclude_flags_are_read_from_the_working_directory(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg/.winfix.yaml").write_text("extend-exclude: ['a.yaml']\n")
    tree(tmp_path, "cfg/a.yaml", "cfg/b.yaml", "cfg/c.yaml", "cfg/d/e.yaml", "x.yaml")
    # --extend-exclude adds to the file's; /cfg/b.yaml is anchored at the working directory
    apply(cli, "--extend-exclude", "/cfg/b.yaml,d/", ".")
    assert changed(tmp_path) == ["cfg/c.yaml", "x.yaml"]
    tree(tmp_path, "cfg/c.yaml", "x.yaml")
    apply(cli, "--exclude", "x.yaml", ".")  # replaces the default list, not extend-exclude
    assert changed(tmp_path) == ["cfg/b.yaml", "cfg/c.yaml", "cfg/d/e.yaml"]


# -- per-file-ignores ----------------------------------------------------------------------


def test_per_file_ignores_keeps_the_rules_fix_off_for_matching_files_only(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / ".winfix.yaml").write_text("per-file-ignores:\n  'legacy/*.yaml': [WIN160]\n")
    tree(tmp_path, "legacy/a.yaml", "legacy/deep/b.yaml", "apps/legacy.yaml")
    apply(cli, ".")
    without = fixed(cli, "--ignore", "WIN160")
    assert without != fixed(cli)  # WIN160 does change POD: the test can tell
    assert (tmp_path / "legacy/a.yaml").read_text() == without
    assert (tmp_path / "legacy/deep/b.yaml").read_text() == fixed(cli)  # * stops at /
    assert (tmp_path / "apps/legacy.yaml").read_text() == fixed(cli)


def test_per_file_ignores_flag(cli: Cli, tmp_path: Path) -> None:
    tree(tmp_path, "a.yaml", "b.yaml")
    apply(cli, "--per-file-ignores", "a.yaml:WIN160,WIN004", ".")
    assert (tmp_path / "a.yaml").read_text() == fixed(cli, "--ignore", "WIN160")
    assert (tmp_path / "b.yaml").read_text() == fixed(cli)


def test_per_file_ignores_cannot_switch_off_a_self_check(cli: Cli, tmp_path: Path) -> None:
    tree(tmp_path, "a.yaml")
    result = cli("apply", "--per-file-ignores", "a.yaml:WIN900", ".")
    assert result.code == 2
    assert result.err_lines[-1].startswith("winfix: error: per-file-ignores: WIN900 ")


def test_bad_per_file_ignores_flag(cli: Cli) -> None:
    result = cli("apply", "--per-file-ignores", "a.yaml", "-")
    assert result.code == 2
    assert "--per-file-ignores 'a.yaml': expected PATTERN:RULES" in result.err


# -- configuration per file ----------------------------------------------------------------


def test_each_file_uses_its_nearest_configuration(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "cfg/sub").mkdir(parents=True)
    (tmp_path / "cfg/.winfix.yaml").write_text("ignore: [WIN160]\n")
    tree(tmp_path, "cfg/sub/d.yaml", "other/e.yaml")
    apply(cli, ".")  # from the parent directory
    assert (tmp_path / "cfg/sub/d.yaml").read_text() == fixed(cli, "--ignore", "WIN160")
    assert (tmp_path / "other/e.yaml").read_text() == fixed(cli)


def test_flags_apply_on_top_of_each_files_configuration(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg/.winfix.yaml").write_text("ignore: [WIN160]\nwindows-version: '2019'\n")
    tree(tmp_path, "cfg/d.yaml")
    apply(cli, "--windows-version", "2022", ".")
    assert (tmp_path / "cfg/d.yaml").read_text() == fixed(
        cli, "--ignore", "WIN160", "--windows-version", "2022"
    )


@pytest.mark.parametrize("flag", ["--isolated", "--config=top.yaml"])
def test_config_and_isolated_override_for_every_file(
    cli: Cli, tmp_path: Path, flag: str
) -> None:
    (tmp_path / "top.yaml").write_text("windows-version: '2022'\n")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg/.winfix.yaml").write_text("ignore: [WIN160]\n")
    tree(tmp_path, "cfg/d.yaml")
    apply(cli, flag, ".")
    expected = fixed(cli, "--windows-version", "2022") if "config" in flag else fixed(cli)
    assert (tmp_path / "cfg/d.yaml").read_text() == expected


def test_bad_nearest_configuration_is_a_config_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg/.winfix.yaml").write_text("selekt: [WIN001]\n")
    tree(tmp_path, "cfg/d.yaml")
    result = cli("apply", ".")
    assert result.code == 2
    assert "cfg/.winfix.yaml:1:1" in result.err, result.err
    assert (tmp_path / "cfg/d.yaml").read_text() == POD


def test_a_pattern_git_cannot_read_in_gitignore_is_passed_over(cli: Cli, tmp_path: Path) -> None:
    """Git skips a lone "!" in .gitignore; so does the walk (no internal error)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("!\nbuild/\n")
    tree(tmp_path, "app/d.yaml", "build/d.yaml")
    apply(cli, ".")
    assert changed(tmp_path) == ["app/d.yaml"]


@pytest.mark.parametrize(
    ("config", "flags", "message"),
    [
        ('exclude: ["!"]\n', (), ".winfix.yaml: exclude: '!' is not a gitignore-style pattern"),
        ('extend-exclude: ["!"]\n', (), ".winfix.yaml: extend-exclude: '!' is not a"),
        ("per-file-ignores: {'!': [WIN001]}\n", (), ".winfix.yaml: per-file-ignores: '!' is"),
        (None, ("--exclude", "!"), "winfix: error: --exclude: '!' is not a gitignore-style"),
        (None, ("--extend-exclude", "!"), "winfix: error: --extend-exclude: '!' is not a"),
    ],
)
def test_a_configured_pattern_pathspec_cannot_read_is_a_config_error(
    cli: Cli, tmp_path: Path, config: str | None, flags: tuple[str, ...], message: str
) -> None:
    """One line, exit 2, and nothing written: the walk is over before any file is read."""
    if config is not None:
        (tmp_path / ".winfix.yaml").write_text(config)
    tree(tmp_path, "a/d.yaml", "b/d.yaml")
    result = cli("apply", *flags, ".")
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and message in result.err_lines[0], result.err
    assert "internal error" not in result.err
    assert changed(tmp_path) == []


# -- the bot's paths and exclude (winfix.bot.discover) -------------------------------------


@pytest.mark.parametrize(
    ("pattern", "selected", "not_selected"),
    [
        # "./" was stripped as a set of characters: ".config" lost its dot
        ("./.config/*.yaml", [".config/a.yaml"], ["config/a.yaml", "x/.config/a.yaml"]),
        ("./deploy/*.yaml", ["deploy/a.yaml"], ["x/deploy/a.yaml", "deploy/sub/a.yaml"]),
        ("env-[ab]/*.yaml", ["env-a/x.yaml", "env-b/x.yaml"], ["env-c/x.yaml", "env-[ab]/x.yaml"]),
        ("/top.yaml", ["top.yaml"], ["sub/top.yaml"]),
        ("apps/**/*.yaml", ["apps/x.yaml", "apps/a/b/x.yaml"], ["other/apps/x.yaml"]),
    ],
)
def test_bot_paths_are_gitignore_patterns(
    pattern: str, selected: list[str], not_selected: list[str]
) -> None:
    from winfix.bot.discover import BotConfig, select_candidates

    found = select_candidates(sorted(selected + not_selected), BotConfig(paths=(pattern,)))
    assert found.manifests == sorted(selected)


def test_bot_exclude_with_negation() -> None:
    from winfix.bot.discover import BotConfig, select_candidates

    config = BotConfig(exclude=("legacy/*", "!legacy/keep.yaml"))  # as git: not "legacy/"
    found = select_candidates(["legacy/a.yaml", "legacy/keep.yaml", "web.yaml"], config)
    assert found.manifests == ["legacy/keep.yaml", "web.yaml"]


@pytest.mark.parametrize("key", ["paths", "exclude"])
def test_bot_pattern_pathspec_cannot_read_is_a_config_error(key: str) -> None:
    from winfix.bot.discover import BotConfig, select_candidates
    from winfix.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"^bot\.{key}: '!' is not a gitignore-style pattern$"):
        select_candidates(["web.yaml"], BotConfig(**{key: ("*.yaml", "!")}))
