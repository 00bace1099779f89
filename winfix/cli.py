"""The `winfix` command line. The only module that parses flags and exits.

Exit codes: 0 success; 1 changes needed (--check/--diff) or errors no fix could
resolve remain; 2 usage or configuration error, or unreadable input; 3 a bug in
winfix. No traceback reaches the user.
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from winfix import __version__, registry
from winfix.config import Settings, resolve
from winfix.errors import ConfigError, InputError, WinfixError
from winfix.explain import explain_text
from winfix.runner import ExitCode, Mode, Options, run

EXIT_CODES_HELP = (
    "Exit codes: 0 success (nothing to change, or fixes written); 1 changes needed "
    "(--check/--diff) or errors that no fix could resolve remain; 2 usage or configuration "
    "error, or unreadable input; 3 internal error (a bug in winfix)."
)

class WindowsVersion(enum.StrEnum):
    WS2019 = "2019"
    WS2022 = "2022"
    WS2025 = "2025"


class HostProcessUser(enum.StrEnum):
    SYSTEM = "system"
    LOCALSERVICE = "localservice"
    NETWORKSERVICE = "networkservice"


class FindingsFormat(enum.StrEnum):
    TEXT = "text"
    GITHUB = "github"
    JSON = "json"
    NONE = "none"


class ColorChoice(enum.StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class ListFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


app = typer.Typer(
    name="winfix",
    help="Rewrite Linux-first Kubernetes manifests so they run on Windows nodes.\n\n"
    + EXIT_CODES_HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # manifests hold Secrets: never print locals
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"winfix {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Rewrite Linux-first Kubernetes manifests so they run on Windows nodes."""


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _parse_toleration(text: str) -> dict[str, Any]:
    """KEY[=VALUE][:EFFECT], as kubectl taint writes taints."""
    effect = None
    if ":" in text:
        text, effect = text.rsplit(":", 1)
    key, _, value = text.partition("=")
    if not key or (effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute")):
        raise ConfigError(f"--toleration {text!r}: expected KEY[=VALUE][:EFFECT]")
    toleration: dict[str, Any] = {"key": key, "operator": "Equal" if value else "Exists"}
    if value:
        toleration["value"] = value
    if effect:
        toleration["effect"] = effect
    return toleration


def _parse_mount(text: str) -> tuple[str, str]:
    prefix, sep, target = text.partition("=")
    if not sep or not prefix.startswith("/") or not target:
        raise ConfigError(f"--mount-path {text!r}: expected /linux/prefix=DRIVE: (e.g. /mnt/data=K:)")
    return prefix, target


def build_settings(
    config: Path | None,
    isolated: bool,
    select: list[str] | None,
    ignore: list[str] | None,
    unsafe_fixes: bool | None,
    windows_version: str | None,
    toleration: list[str] | None,
    no_tolerations: bool,
    runtime_class: str | None,
    mount_path: list[str] | None,
    host_process_user: str | None,
) -> Settings:
    overrides: dict[str, Any] = {
        "select": _split(select),
        "ignore": _split(ignore),
        "unsafe_fixes": unsafe_fixes,
        "windows_version": windows_version,
        "runtime_class": runtime_class,
        "host_process_user": host_process_user,
    }
    if no_tolerations:
        overrides["tolerations"] = ()
    elif toleration:
        overrides["tolerations"] = tuple(tuple(_parse_toleration(t).items()) for t in toleration)
    if mount_path:
        overrides["mount_paths"] = tuple(_parse_mount(m) for m in mount_path)
    if isolated:
        from dataclasses import replace

        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(Settings(), **clean)
    return resolve(config, Path.cwd(), overrides)


PathsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Files or directories (*.yaml, *.yml); '-' reads stdin and writes stdout."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Configuration file (default: .winfix.yaml found upward)."),
]
IsolatedOpt = Annotated[bool, typer.Option("--isolated", help="Ignore configuration files.")]
SelectOpt = Annotated[
    list[str] | None, typer.Option("--select", help="Only these rules (ids, id prefixes or names).")
]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules.")]
UnsafeOpt = Annotated[
    bool | None,
    typer.Option("--unsafe-fixes/--no-unsafe-fixes", help="Also apply fixes that change behaviour."),
]
VersionOpt = Annotated[
    WindowsVersion | None,
    typer.Option(
        "--windows-version",
        help="Target Windows Server version: adds node.kubernetes.io/windows-build.",
    ),
]
TolerationOpt = Annotated[
    list[str] | None,
    typer.Option("--toleration", help="Toleration to add, KEY[=VALUE][:EFFECT] (repeatable)."),
]
NoTolerationsOpt = Annotated[
    bool, typer.Option("--no-tolerations", help="Add no tolerations (untainted Windows nodes).")
]
RuntimeClassOpt = Annotated[
    str | None, typer.Option("--runtime-class", help="Schedule with this Windows RuntimeClass.")
]
MountOpt = Annotated[
    list[str] | None,
    typer.Option("--mount-path", help="Map a Linux mount prefix to a drive, /mnt/data=K: (repeatable)."),
]
HostProcessUserOpt = Annotated[
    HostProcessUser | None,
    typer.Option("--host-process-user", help="User for HostProcess conversions."),
]


@app.command(epilog=EXIT_CODES_HELP)
def apply(
    paths: PathsArg = None,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if anything would change.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write findings as JSON, or SARIF 2.1.0 if PATH ends in .sarif."),
    ] = None,
    output_format: Annotated[
        FindingsFormat,
        typer.Option("--format", help="How findings are printed on stderr (github: annotations)."),
    ] = FindingsFormat.TEXT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    color: Annotated[ColorChoice, typer.Option("--color", help="Colour diffs.")] = ColorChoice.AUTO,
    max_size: Annotated[
        int, typer.Option("--max-size", help="Largest input accepted, in MiB.", min=1)
    ] = 64,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    unsafe_fixes: UnsafeOpt = None,
    windows_version: VersionOpt = None,
    toleration: TolerationOpt = None,
    no_tolerations: NoTolerationsOpt = False,
    runtime_class: RuntimeClassOpt = None,
    mount_path: MountOpt = None,
    host_process_user: HostProcessUserOpt = None,
) -> None:
    """Fix manifests in place (or stdin to stdout), or show what would change."""
    if not paths:
        raise typer.BadParameter("give at least one PATH, or '-' for stdin", param_hint="PATHS")
    settings = build_settings(
        config, isolated, select, ignore, unsafe_fixes,
        windows_version.value if windows_version else None, toleration,
        no_tolerations, runtime_class, mount_path,
        host_process_user.value if host_process_user else None,
    )
    rules = registry.select(settings.select, settings.ignore)
    mode = Mode.CHECK if check else Mode.DIFF if diff else Mode.APPLY
    use_color = color is ColorChoice.ALWAYS or (
        color is ColorChoice.AUTO and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    options = Options(
        mode=mode,
        output_format=output_format.value,
        report=report,
        color=use_color,
        max_bytes=max_size * 1024 * 1024,
        quiet=quiet,
    )
    if diff and check:
        options.mode = Mode.DIFF
    code, _ = run(paths, settings, rules, options)
    raise typer.Exit(code)


@app.command("rules")
def list_rules(
    output_format: Annotated[ListFormat, typer.Option("--format")] = ListFormat.TEXT,
) -> None:
    """List the rules: id, name, fix safety and what each does."""
    rules = registry.all_rules()
    if output_format is ListFormat.JSON:
        import json

        data = [
            {"id": r.id, "name": r.name, "safety": str(r.safety), "title": r.title} for r in rules
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    width = max(len(r.name) for r in rules)
    for rule in rules:
        typer.echo(f"{rule.id}  {rule.name:<{width}}  {rule.safety!s:<6}  {rule.title}")


@app.command()
def explain(rule: Annotated[str, typer.Argument(help="Rule id or name, e.g. WIN001 or os-name.")]) -> None:
    """Print a rule's documentation and an example diff."""
    typer.echo(explain_text(registry.get(rule)), nl=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to a documented exit code."""
    try:
        app(args=argv, prog_name="winfix")
    except SystemExit as exc:  # typer/click exit with the code we or they chose
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ExitCode.INPUT)
    except InputError as exc:
        sys.stderr.write(f"{exc}\n")
        return ExitCode.INPUT
    except WinfixError as exc:
        sys.stderr.write(f"winfix: error: {exc}\n")
        return ExitCode.INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no tracebacks
        sys.stderr.write(
            f"winfix: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in winfix; please report it with the input that caused it)\n"
        )
        return ExitCode.INTERNAL
    return ExitCode.OK
