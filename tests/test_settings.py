"""The option table: from one entry, every option reaches the schema, flags, pre-commit, KRM."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from tests.conftest import REPO
from winfix import cli, krm
from winfix.cli import apply, check_command, flag_overrides
from winfix.config import CONFIG_SCHEMA, validate
from winfix.errors import ConfigError
from winfix.precommit import split_args, value_flags
from winfix.settings import (
    APPLY,
    BOT,
    BOT_OPTIONS,
    CHECK,
    OPTION_BY_KEY,
    OPTIONS,
    BotSettings,
    KeepLinux,
    Overlay,
    Settings,
    settings_from_data,
)

# One valid config value per option. A new option without one fails
# test_every_option_has_a_sample, so that the tests below cover it too.
SAMPLES: dict[str, Any] = {
    "select": ["WIN001", "WIN002"],
    "ignore": ["WIN005"],
    "extend-select": ["WIN005"],
    "unsafe-fixes": True,
    "windows-version": "2022",
    "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}],
    "runtime-class": "windows-2022",
    "host-process-user": "networkservice",
    "mount-paths": {"/mnt/data": "K:", "/var/log": "C:\\logs"},
    "mount-path-style": "windows",
    "image-map": {"nginx": "mcr.microsoft.com/oss/nginx/nginx:1.25"},
    "keep-linux": [{"kind": "DaemonSet", "name": "fluent*", "reason": "a Linux agent"}],
    "pod-template-paths": [{"apiVersion": "example.com/v1", "kind": "Job", "paths": ["spec.t"]}],
    "cluster-domain": "corp.internal",
    "profiles": ["azure-npm"],
    "meshes": ["istio", "osm"],
    "network-policy": "calico",
    "kubernetes-version": "1.32",
    "schema-validation": True,
    "bot": {"branch": "fix/windows", "overlays": [{"source": "charts/web/", "path": "ov"}]},
    "on-blocked": "pin-linux",
    "resolve-images": True,
    "offline": True,
    "image-cache-hours": 1,
    "insecure-registries": ["127.0.0.1:5000"],
    "respect-gitignore": False,
    "exclude": ["build/"],
    "extend-exclude": ["tmp-*.yaml", "/vendor/"],
    "per-file-ignores": {"legacy/*.yaml": ["WIN105", "WIN160"]},
}

# The same values as flags of `winfix apply`, where the option has one.
FLAGS: dict[str, list[str]] = {
    "select": ["--select", "WIN001,WIN002"],
    "ignore": ["--ignore", "WIN005"],
    "extend-select": ["--extend-select", "WIN005"],
    "unsafe-fixes": ["--unsafe-fixes"],
    "windows-version": ["--windows-version", "2022"],
    "tolerations": ["--toleration", "dedicated:NoExecute"],
    "runtime-class": ["--runtime-class", "windows-2022"],
    "host-process-user": ["--host-process-user", "networkservice"],
    "mount-paths": ["--mount-path", "/mnt/data=K:", "--mount-path", "/var/log=C:\\logs"],
    "mount-path-style": ["--mount-path-style", "windows"],
    "image-map": ["--image-map", "nginx=mcr.microsoft.com/oss/nginx/nginx:1.25"],
    "cluster-domain": ["--cluster-domain", "corp.internal"],
    "profiles": ["--profile", "azure-npm"],
    "meshes": ["--mesh", "istio", "--mesh", "osm"],
    "network-policy": ["--network-policy", "calico"],
    "kubernetes-version": ["--kubernetes-version", "1.32"],
    "schema-validation": ["--schema"],
    "on-blocked": ["--on-blocked", "pin-linux"],
    "resolve-images": ["--resolve-images"],
    "offline": ["--offline"],
    "image-cache-hours": ["--image-cache-hours", "1"],
    "insecure-registries": ["--insecure-registry", "127.0.0.1:5000"],
    "respect-gitignore": ["--no-respect-gitignore"],
    "exclude": ["--exclude", "build/"],
    "extend-exclude": ["--extend-exclude", "tmp-*.yaml,/vendor/"],
    "per-file-ignores": ["--per-file-ignores", "legacy/*.yaml:WIN105,WIN160"],
}


def test_every_option_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(OPTION_BY_KEY)
    assert sorted(FLAGS) == sorted(o.key for o in OPTIONS if o.flag)


def test_the_schema_is_the_table() -> None:
    assert CONFIG_SCHEMA["additionalProperties"] is False
    assert CONFIG_SCHEMA["properties"] == {o.key: o.schema for o in OPTIONS}


def test_every_option_is_a_settings_field_with_its_default() -> None:
    names = [f.name for f in fields(Settings)]
    assert names == [o.attr for o in OPTIONS] + ["source", "flag_values", "per_file_config"]
    defaults = Settings()
    for option in OPTIONS:
        assert getattr(defaults, option.attr) == option.default, option.key


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_option_is_read_from_a_file_and_a_function_config(key: str) -> None:
    value = SAMPLES[key]
    from_file = settings_from_data(validate({key: value}, "t"))
    attr = OPTION_BY_KEY[key].attr
    assert getattr(from_file, attr) != getattr(Settings(), attr)  # the sample changes it
    window = {"apiVersion": "winfix.io/v1alpha1", "kind": "WindowsFix", "spec": {key: value}}
    assert getattr(krm.settings_from_function_config(window), attr) == getattr(from_file, attr)


def _as_config_map_string(key: str, value: Any) -> str:
    """How `kpt fn eval -- key=value` would write the sample."""
    form = OPTION_BY_KEY[key].text_form
    if form == "list":
        return ",".join(value)
    if form == "pairs":
        return ",".join(f"{k}={v}" for k, v in value.items())
    if form == "text":
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_option_is_read_from_a_config_map_string(key: str) -> None:
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fn"},
        "data": {key: _as_config_map_string(key, SAMPLES[key])},
    }
    attr = OPTION_BY_KEY[key].attr
    expected = getattr(settings_from_data(validate({key: SAMPLES[key]}, "t")), attr)
    assert getattr(krm.settings_from_function_config(config_map), attr) == expected


def test_config_map_strings_keep_their_type() -> None:
    # Read as YAML, 1.32 would be a float the schema rejects; 2022 a number.
    data = krm.config_data(
        {"kind": "ConfigMap", "data": {"kubernetes-version": "1.32", "windows-version": "2022",
                                       "unsafe-fixes": "true", "tolerations": "false"}}
    )
    assert data == {"kubernetes-version": "1.32", "windows-version": "2022",
                    "unsafe-fixes": True, "tolerations": False}


def _parse(command: click.Command, argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The parameters a command's flags give (and its other arguments)."""
    with command.make_context(command.name or "", list(argv)) as ctx:
        return dict(ctx.params), ctx.args


@pytest.mark.parametrize("key", sorted(FLAGS))
def test_every_flag_gives_what_the_file_gives(key: str) -> None:
    overrides = flag_overrides(APPLY, _parse(apply, [*FLAGS[key], "-"])[0])
    attr = OPTION_BY_KEY[key].attr
    expected = getattr(settings_from_data(validate({key: SAMPLES[key]}, "t")), attr)
    assert overrides == {attr: expected}


def test_every_flag_is_in_the_help_and_in_pre_commits_value_flags() -> None:
    apply_help = apply.get_help(click.Context(apply, info_name="apply"))
    check_help = check_command.get_help(click.Context(check_command, info_name="check"))
    takes_value = value_flags()
    for option in OPTIONS:
        if option.flag is None:
            continue
        helps = {APPLY: apply_help, CHECK: check_help}
        for command in option.commands:
            assert f"{option.flag} " in helps[command], (command, option.key)
            if option.off_flag:
                assert option.off_flag in helps[command], (command, option.key)
        assert (option.flag in takes_value) == option.takes_value, option.key
    # the flags that are not settings, too (missing from pre-commit's hand-written list once)
    assert {"--emit-patches", "--kustomize", "--helm", "--config", "--report"} <= takes_value
    assert not {"--check", "--diff", "--quiet", "-q", "--unsafe-fixes", "--no-tolerations"} & (
        takes_value
    )


def test_pre_commit_skips_the_values_of_every_value_flag() -> None:
    argv = ["--helm", "chart", "--emit-patches", "out", "--kustomize", "k", "--check", "a.yaml"]
    assert split_args(argv) == (argv[:-1], ["a.yaml"])


def test_the_cli_names_the_commands_as_the_table_does() -> None:
    assert (cli.APPLY, cli.CHECK, cli.BOT) == (APPLY, CHECK, BOT)
    assert (apply.name, check_command.name, cli.bot.name) == (APPLY, CHECK, BOT)


def test_the_bot_flags_come_from_the_bot_table() -> None:
    bot_help = cli.bot.get_help(click.Context(cli.bot, info_name="bot"))
    flags = [o for o in BOT_OPTIONS if o.flag]
    assert [o.key for o in flags] == ["branch", "base"]
    for option in flags:
        assert f"{option.flag} {option.metavar}" in bot_help
    given = flag_overrides(BOT, _parse(cli.bot, ["--branch", "fix/win", "--base", "main"])[0])
    assert given == {"branch": "fix/win", "base": "main"}
    with pytest.raises(ConfigError, match="--branch 'a b': expected BRANCH"):
        flag_overrides(BOT, _parse(cli.bot, ["--branch", "a b"])[0])


def test_structured_options_are_config_only() -> None:
    assert sorted(o.key for o in OPTIONS if o.flag is None) == [
        "bot", "keep-linux", "pod-template-paths"
    ]


def test_check_has_the_options_of_apply() -> None:
    """`winfix check` gives the verdicts apply would: every setting of apply counts."""
    assert sorted(o.key for o in OPTIONS if CHECK in o.commands) == sorted(
        o.key for o in OPTIONS if APPLY in o.commands
    )


def test_values_convert_to_their_settings_form() -> None:
    settings = settings_from_data(validate(SAMPLES, "t"))
    assert settings.keep_linux == (
        KeepLinux(kind="DaemonSet", name="fluent*", reason="a Linux agent"),
    )
    assert settings.pod_template_paths == (("example.com/Job", ("spec.t",)),)
    assert settings.mount_paths == (("/mnt/data", "K:"), ("/var/log", "C:\\logs"))
    overlay = Overlay("charts/web", "ov")  # the trailing slash dropped
    assert settings.bot == BotSettings(branch="fix/windows", overlays=(overlay,))
    assert settings.windows_build == "10.0.20348"
    assert settings_from_data(validate({"windows-version": 2025}, "t")).windows_version == "2025"


def test_extend_select_widens_select_wherever_each_comes_from() -> None:
    assert Settings(select=("WIN002",), extend_select=("WIN005", "WIN002")).select == (
        "WIN002", "WIN005"
    )
    assert Settings(extend_select=("WIN005",)).select == ()  # every rule already
    from_file = settings_from_data(validate({"select": ["WIN002"], "extend-select": ["WIN5"]}, "t"))
    assert replace(from_file, select=("WIN001",)).select == ("WIN001", "WIN5")


def test_a_bad_bot_branch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"bot.branch 'a\.\.b' is not a valid git branch name"):
        settings_from_data(validate({"bot": {"branch": "a..b"}}, "t"))


def test_settings_is_a_leaf() -> None:
    tree = ast.parse((REPO / "winfix" / "settings.py").read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    winfix = sorted(m for m in imported if m and m.startswith("winfix"))
    assert winfix == ["winfix.errors"]
    assert all(m.split(".")[0] in sys.stdlib_module_names for m in imported - {"winfix.errors"})


def _modules_after(argv: list[str], cwd: Path, stdin: bytes = b"") -> set[str]:
    code = (
        "import sys\nfrom winfix.cli import main\ncode = main(sys.argv[1:])\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\nraise SystemExit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], input=stdin, capture_output=True, check=True,
        cwd=cwd, timeout=60,
    )
    return set(proc.stderr.decode().split("\n")[-1].split())


def test_version_imports_neither_the_option_table_nor_the_engine(tmp_path: Path) -> None:
    modules = _modules_after(["--version"], tmp_path)
    assert sorted(m for m in modules if m.startswith("winfix")) == [
        # commands and startup: a few functions each, no imports of their own; collector:
        # the switch startup turns on (collector.freeze_survivors), gc and contextlib
        "winfix", "winfix.cli", "winfix.collector", "winfix.commands", "winfix.errors",
        "winfix.startup",
    ]
    assert not {"yaml", "jsonschema", "pydantic", "rich", "typer"} & modules


def test_apply_without_configuration_does_not_import_jsonschema(tmp_path: Path) -> None:
    pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n"
    modules = _modules_after(["apply", "-q", "-"], tmp_path, stdin=pod)
    assert "winfix.engine" in modules
    assert not {"jsonschema", "pydantic", "rich", "typer"} & modules
