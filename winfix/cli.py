"""The `winfix` command line. The only module that parses flags and exits.

Exit codes: 0 success; 1 changes needed (--check/--diff) or errors no fix could
resolve remain; 2 usage or configuration error, or unreadable input; 3 a bug in
winfix. No traceback reaches the user.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from winfix import __version__, files, policy, registry
from winfix.config import DRIVE_PATTERN, Settings, resolve
from winfix.errors import ConfigError, InputError, WinfixError
from winfix.explain import explain_text
from winfix.rules import Rule
from winfix.runner import ExitCode, Mode, Options, run

EXIT_CODES_HELP = (
    "Exit codes: 0 success (nothing to change, or fixes written); 1 changes needed "
    "(--check/--diff) or errors that no fix could resolve remain; 2 usage or configuration "
    "error, or unreadable input; 3 internal error (a bug in winfix)."
)

CHECK_EXIT_HELP = (
    "Exit codes: 0 every workload would be admitted and scheduled on Windows; 1 at least one "
    "would not (the errors say which field and what to do); 2 usage or configuration error, "
    "or unreadable input; 3 internal error (a bug in winfix)."
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
    body = text
    if ":" in body:
        body, effect = body.rsplit(":", 1)
    key, _, value = body.partition("=")
    if not key or (effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute")):
        raise ConfigError(
            f"--toleration {text!r}: expected KEY[=VALUE][:EFFECT], "
            "EFFECT one of NoSchedule, PreferNoSchedule, NoExecute"
        )
    toleration: dict[str, Any] = {"key": key, "operator": "Equal" if value else "Exists"}
    if value:
        toleration["value"] = value
    if effect:
        toleration["effect"] = effect
    return toleration


def _parse_mount(text: str) -> tuple[str, str]:
    prefix, sep, target = text.partition("=")
    if not sep or not prefix.startswith("/") or not re.match(DRIVE_PATTERN, target):
        raise ConfigError(
            f"--mount-path {text!r}: expected /linux/prefix=DRIVE: (e.g. /mnt/data=K:)"
        )
    return prefix, target


def build_settings(
    *,
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


ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Write findings as JSON, or SARIF 2.1.0 if PATH ends in .sarif."),
]
FormatOpt = Annotated[
    FindingsFormat,
    typer.Option("--format", help="How findings are printed on stderr (github: annotations)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
MaxSizeOpt = Annotated[
    int, typer.Option("--max-size", help="Largest input accepted, in MiB.", min=1)
]
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
    typer.Option(
        "--unsafe-fixes/--no-unsafe-fixes", help="Also apply fixes that change behaviour."
    ),
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
    typer.Option(
        "--mount-path", help="Map a Linux mount prefix to a drive, /mnt/data=K: (repeatable)."
    ),
]
HostProcessUserOpt = Annotated[
    HostProcessUser | None,
    typer.Option("--host-process-user", help="User for HostProcess conversions."),
]


EmitPatchesOpt = Annotated[
    Path | None,
    typer.Option(
        "--emit-patches",
        metavar="DIR",
        help="Write the fixes as a Kustomize component (JSON6902 patches) in DIR; "
        "leave the inputs unchanged.",
    ),
]
KustomizeOpt = Annotated[
    str | None,
    typer.Option(
        "--kustomize",
        metavar="DIR",
        help="Render DIR with `kustomize build` (or `kubectl kustomize`) and fix the output; "
        "PATHS after -- go to the renderer.",
    ),
]
HelmOpt = Annotated[
    str | None,
    typer.Option(
        "--helm",
        metavar="CHART",
        help="Render CHART with `helm template` and fix the output; "
        "PATHS after -- go to helm template (e.g. -- -f values.yaml).",
    ),
]


@app.command(epilog=EXIT_CODES_HELP)
def apply(  # noqa: PLR0917 - typer maps each parameter to an option
    paths: PathsArg = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff; write nothing.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if anything would change.")
    ] = False,
    report: ReportOpt = None,
    output_format: FormatOpt = FindingsFormat.TEXT,
    quiet: QuietOpt = False,
    color: Annotated[ColorChoice, typer.Option("--color", help="Colour diffs.")] = ColorChoice.AUTO,
    max_size: MaxSizeOpt = 64,
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
    emit_patches: EmitPatchesOpt = None,
    kustomize: KustomizeOpt = None,
    helm: HelmOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="--emit-patches: replace files winfix did not write.")
    ] = False,
) -> None:
    """Fix manifests in place (or stdin to stdout), or show what would change."""
    if not paths and not (kustomize or helm):
        raise typer.BadParameter("give at least one PATH, or '-' for stdin", param_hint="PATHS")
    if paths and paths.count("-") > 1:
        raise typer.BadParameter("'-' (stdin) can be given only once", param_hint="PATHS")
    settings = build_settings(
        config=config,
        isolated=isolated,
        select=select,
        ignore=ignore,
        unsafe_fixes=unsafe_fixes,
        windows_version=windows_version.value if windows_version else None,
        toleration=toleration,
        no_tolerations=no_tolerations,
        runtime_class=runtime_class,
        mount_path=mount_path,
        host_process_user=host_process_user.value if host_process_user else None,
    )
    rules = _rules(settings, from_flags=bool(select or ignore))
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
        force=force,
    )
    if diff and check:  # the diff, and the exit code --check would give (the same: 1)
        options.mode = Mode.DIFF
    if emit_patches is not None or kustomize or helm:
        from winfix import hosts

        code = hosts.run_apply(
            list(paths or []), settings, rules, options,
            emit_patches=emit_patches, kustomize=kustomize, helm=helm,
        )
        raise typer.Exit(code)
    code, _ = run(paths or [], settings, rules, options)
    raise typer.Exit(code)


@app.command("check", epilog=CHECK_EXIT_HELP)
def check_command(  # noqa: PLR0917 - typer maps each parameter to an option
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files or directories (*.yaml, *.yml); '-' reads stdin."),
    ] = None,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema/--no-schema",
            help="Also validate built-in kinds against the Kubernetes OpenAPI schema "
            "(needs winfix[schema]).",
        ),
    ] = True,
    kubernetes_version: Annotated[
        str | None,
        typer.Option(
            "--kubernetes-version",
            metavar="MAJOR.MINOR",
            help="Schema version to validate against (default: the newest installed).",
        ),
    ] = None,
    report: ReportOpt = None,
    output_format: FormatOpt = FindingsFormat.TEXT,
    quiet: QuietOpt = False,
    max_size: MaxSizeOpt = 64,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
    runtime_class: Annotated[
        str | None,
        typer.Option(
            "--runtime-class", help="A RuntimeClass that places pods on Windows nodes."
        ),
    ] = None,
) -> None:
    """Check, without changing anything, that manifests would be admitted and scheduled on
    Windows nodes (the self-check `apply` runs after fixing), e.g. for hand-written ones."""
    if not paths:
        raise typer.BadParameter("give at least one PATH, or '-' for stdin", param_hint="PATHS")
    if paths.count("-") > 1:
        raise typer.BadParameter("'-' (stdin) can be given only once", param_hint="PATHS")
    settings = build_settings(
        config=config,
        isolated=isolated,
        select=None,
        ignore=None,
        unsafe_fixes=None,
        windows_version=None,
        toleration=None,
        no_tolerations=False,
        runtime_class=runtime_class,
        mount_path=None,
        host_process_user=None,
    )
    from dataclasses import replace

    if kubernetes_version is not None:
        import re

        if not re.fullmatch(r"v?1\.\d+(\.\d+)?", kubernetes_version):
            raise ConfigError(
                f"--kubernetes-version {kubernetes_version!r}: expected MAJOR.MINOR, e.g. 1.32"
            )
        settings = replace(settings, kubernetes_version=kubernetes_version)
    settings = replace(settings, schema_validation=schema, select=(), ignore=())
    if schema:
        from winfix import schema as schemas

        if schemas.available():  # without the package, WIN901 says so once per file
            try:
                schemas.resolve_version(settings.kubernetes_version)
            except schemas.SchemaUnavailable as exc:
                raise ConfigError(str(exc)) from None
    rules = policy.rules_for(settings, policy.Command.CHECK)
    options = Options(
        mode=Mode.CHECK,
        output_format=output_format.value,
        report=report,
        max_bytes=max_size * 1024 * 1024,
        quiet=quiet,
    )
    code, _ = run(paths, settings, rules, options)
    raise typer.Exit(code)


def _rules(settings: Settings, *, from_flags: bool) -> tuple[Rule, ...]:
    try:
        return policy.rules_for(settings)
    except ConfigError as exc:
        if settings.source and not from_flags:
            raise ConfigError(f"{settings.source}: {exc}") from None
        raise


@app.command("krm")
def krm_function() -> None:
    """KRM function: a ResourceList on stdin, the fixed ResourceList on stdout (kpt, kustomize).

    Options come from functionConfig (kind WindowsFix, apiVersion winfix.io/v1alpha1, the
    keys of .winfix.yaml; or a ConfigMap's data). Exit 1 only when an error-severity
    result remains.
    """
    from winfix import krm

    raise typer.Exit(krm.run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr))


kustomize_plugin_app = typer.Typer(
    help="The Kustomize legacy exec transformer plugin (kind WindowsFix).",
    no_args_is_help=True,
)
app.add_typer(kustomize_plugin_app, name="kustomize-plugin")


@kustomize_plugin_app.command("install")
def kustomize_plugin_install(
    python: Annotated[
        str | None,
        typer.Option("--python", help="Interpreter the plugin runs (default: this one)."),
    ] = None,
) -> None:
    """Install the plugin under $XDG_CONFIG_HOME/kustomize/plugin (default ~/.config)."""
    from winfix import kustomize_plugin

    path = kustomize_plugin.install(python=python)
    typer.echo(f"installed {path}")
    typer.echo("use it with: kubectl kustomize --enable-alpha-plugins DIR "
               "(or kustomize build --enable-alpha-plugins DIR)")


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
def explain(
    rule: Annotated[str, typer.Argument(help="Rule id or name, e.g. WIN001 or os-name.")],
) -> None:
    """Print a rule's documentation and an example diff."""
    typer.echo(explain_text(registry.get(rule)), nl=False)


BOT_EXIT_HELP = (
    "Exit codes: 0 pull request opened, updated or already up to date (or nothing to fix, or "
    "the same fixes were closed unmerged); 1 someone else pushed to the bot's branch, which is "
    "left alone; 2 configuration, git or GitHub API error."
)


@app.command(epilog=BOT_EXIT_HELP)
def bot(  # noqa: PLR0917 - typer maps each parameter to an option
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff and the PR body; change nothing.")
    ] = False,
    repo: Annotated[
        Path, typer.Option("--repo", help="The GitOps clone (default: the current directory).")
    ] = Path(),
    remote: Annotated[str, typer.Option("--remote", help="Git remote to push to.")] = "origin",
    branch: Annotated[
        str | None, typer.Option("--branch", help="Bot branch (default: bot.branch).")
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Base branch (default: the repository's).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Fix a GitOps repository's manifests and open or update one GitHub pull request.

    Token from $GITHUB_TOKEN (or bot.token-env), API from $GITHUB_API_URL, repository from
    $GITHUB_REPOSITORY or the remote URL. Needs the bot extra: pip install 'winfix[bot]'.
    """
    try:
        from winfix.bot import BotOptions, run_bot
    except ImportError as exc:
        raise ConfigError(
            f"winfix bot needs the bot extra ({exc.name or exc} is missing): "
            "pip install 'winfix[bot]'"
        ) from None
    result = run_bot(BotOptions(repo=repo, remote=remote, dry_run=dry_run, config=config,
                                branch=branch, base=base))
    raise typer.Exit(result.exit_code)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to a documented exit code."""
    code = _dispatch(argv)
    lost = files.close_stdout()  # output lost at the last flush: never exit 0 truncated
    if lost is not None:
        sys.stderr.write(f"winfix: error: {lost}\n")
        return max(code, ExitCode.INPUT)
    return code


def _dispatch(argv: list[str] | None) -> int:
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
        # The reader went away (`winfix apply - | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    except OSError as exc:  # an output that failed (stdout on a full disk) is not a bug
        files.discard(sys.stdout)
        sys.stderr.write(f"winfix: error: cannot write: {exc.strerror or exc}\n")
        return ExitCode.INPUT
    except Exception as exc:  # the last line of defence: no tracebacks
        sys.stderr.write(
            f"winfix: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in winfix; please report it with the input that caused it)\n"
        )
        return ExitCode.INTERNAL
    return ExitCode.OK
