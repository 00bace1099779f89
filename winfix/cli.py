"""The `winfix` command line. The only module that parses flags and exits.

Exit codes: 0 success; 1 changes needed (--check/--diff) or errors no fix could
resolve remain; 2 usage or configuration error, or unreadable input; 3 a bug in
winfix. No traceback reaches the user.

Built on click alone, not typer. typer 0.29 depends on pydantic, pydantic-core, rich,
pygments, markdown-it and shellingham (20 installed packages for winfix's 4), builds
pydantic adapters to parse options (about 100 ms of a 219 ms `winfix apply -`), and
typer-slim is, since 0.24, an empty package that depends on typer. winfix uses none of
what typer adds over click: the settings flags of `apply`/`check` are generated from the
option table (winfix.settings), which click takes as data. The engine, the rules and
jsonschema are imported inside the commands, so `winfix --version` and `--help` cost
little more than the interpreter's start-up (bench/startup.py measures it). What
`apply` does once its options are parsed (settings, rules, exit codes) is
winfix.commands', which `winfix apply -` without options or with `-q`/`--quiet` alone
reaches without click (winfix.__main__, winfix.commands.FIXED_APPLY).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from winfix import __version__, compiled, startup
from winfix.commands import (
    DEFAULT_MAX_MIB,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    build_settings,
    exit_code_for,
    flushed,
    presentation,
    rules_for,
)
from winfix.errors import ConfigError

if TYPE_CHECKING:
    from winfix.model import Finding
    from winfix.rules import Rule
    from winfix.runner import Options
    from winfix.settings import Option, Settings

# winfix.settings.APPLY, CHECK, BOT: the commands with flags from the option table
APPLY, CHECK, BOT = "apply", "check", "bot"

EXIT_CODES_HELP = (
    "Exit codes: 0 success (nothing to change, or fixes written); 1 changes needed "
    "(--check/--diff) or errors that no fix could resolve remain; 2 usage or configuration "
    "error, or unreadable input; 3 internal error (a bug in winfix)."
)

CHECK_EXIT_HELP = (
    "Exit codes: 0 no workload is blocked (each is ready, needs review, or is kept on Linux, "
    "once `winfix apply` has fixed it); 1 at least one is blocked (the errors say which field "
    "and what unblocks it); 2 usage or configuration error, or unreadable input; 3 internal "
    "error (a bug in winfix)."
)

BOT_EXIT_HELP = (
    "Exit codes: 0 pull request opened, updated or already up to date (or nothing to fix, or "
    "the same fixes were closed unmerged); 1 someone else pushed to the bot's branch, which is "
    "left alone; 2 configuration, git or GitHub API error."
)

# A fixed width keeps --help the same in every terminal (and in its snapshot test).
CONTEXT: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
    "terminal_width": 100,
}
# ruff's --output-format names (winfix.reporting.REPORT_FORMATS are the reports).
FINDINGS_FORMATS = ("text", "json", "sarif", "github", "junit", "markdown", "none")


class _Ordered(click.Group):
    """Lists the commands in the order they are defined, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    cls=_Ordered,
    context_settings=CONTEXT,
    no_args_is_help=True,
    help="Rewrite Linux-first Kubernetes manifests so they run on Windows nodes.\n\n"
    + EXIT_CODES_HELP,
)
@click.version_option(
    __version__, "--version", help="Show the version.",
    message="winfix %(version)s" + (" (compiled with mypyc)" if compiled() else ""),
)
def app() -> None:
    """Rewrite Linux-first Kubernetes manifests so they run on Windows nodes."""


# ---------------------------------------------------------------------------
# Flags generated from the option table


def _table(command: str) -> tuple[Option, ...]:
    from winfix.settings import BOT_OPTIONS, OPTIONS

    return BOT_OPTIONS if command == BOT else OPTIONS  # `bot` flags set the bot: table


def table_flags(command: str) -> list[click.Option]:
    """The flags of every option ``command`` has one for (winfix.settings)."""
    flags: list[click.Option] = []
    for opt in _table(command):
        if command not in opt.commands or opt.flag is None:
            continue
        if opt.is_bool:
            flags.append(click.Option([f"{opt.flag}/{opt.off_flag}", opt.attr],
                                      default=None, help=opt.help))
            continue
        choices = click.Choice(opt.choices) if opt.choices else None
        flags.append(click.Option(
            [opt.flag, opt.attr],
            type=choices or str,
            multiple=opt.is_list,
            # a choice shows its values ([2019|2022|2025]); the rest their form
            metavar=None if choices else opt.metavar,
            help=opt.help,
        ))
        if opt.off_flag:
            flags.append(click.Option([opt.off_flag, f"{opt.attr}_off"], is_flag=True,
                                      default=False, help=opt.off_help))
    return flags


class _SettingsCommand(click.Command):
    """A command whose setting flags come from the option table, built when first needed
    (parsing its arguments, its --help), so `winfix --version` never loads the table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._table_loaded = False

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        self._load_table()
        return super().get_params(ctx)

    def _load_table(self) -> None:
        if not self._table_loaded:
            self._table_loaded = True
            # after the command's own options that come before them (see _SETTINGS_AFTER)
            at = next((i + 1 for i, p in enumerate(self.params)
                       if p.name == _SETTINGS_AFTER.get(self.name or "")), len(self.params))
            self.params[at:at] = table_flags(self.name or "")


# Where the setting flags go in each command's --help.
_SETTINGS_AFTER = {APPLY: "isolated", CHECK: "paths", BOT: "remote"}


def flag_overrides(command: str, values: dict[str, Any]) -> dict[str, Any]:
    """Settings fields given on the command line (taken out of ``values``)."""
    overrides: dict[str, Any] = {}
    for opt in _table(command):
        if command not in opt.commands:
            continue
        if values.pop(f"{opt.attr}_off", False):
            overrides[opt.attr] = opt.convert(False)  # --no-tolerations: config `false`
            values.pop(opt.attr, None)
            continue
        value = values.pop(opt.attr, None)
        if value is not None and value != ():
            overrides[opt.attr] = opt.from_flag(value)
    return overrides


def _paths(paths: tuple[str, ...], required: bool = True) -> list[str]:
    if required and not paths:
        raise click.BadParameter("give at least one PATH, or '-' for stdin", param_hint="PATHS")
    if paths.count("-") > 1:
        raise click.BadParameter("'-' (stdin) can be given only once", param_hint="PATHS")
    return list(paths)


# Options shared by apply and check.
_report = click.option(
    "--report", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
    help="Write findings as JSON, or by PATH's suffix SARIF 2.1.0 (.sarif), Markdown (.md) or "
    "JUnit (.xml); in the --output-format when stdout is the fixed stream or a diff.",
)
_format = click.option(
    "--output-format", "--format", "output_format", type=click.Choice(FINDINGS_FORMATS),
    default="text", show_default=True,
    help="text: findings on stderr. json, sarif, github (annotations), junit, markdown (for "
    "$GITHUB_STEP_SUMMARY): a report on stdout, alone; where stdout is the fixed stream "
    "(apply -) or a diff, in --report PATH or on stderr.",
)
_stdin_filename = click.option(
    "--stdin-filename", metavar="NAME",
    help="Name the input read from '-' NAME in findings, diffs and reports.",
)
# Only the runner's quiet: winfix.commands.FIXED_APPLY runs `apply -q -` without click.
_quiet = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
# Presentation, not settings (so not in the option table or .winfix.yaml): what is shown
# and how, while what is fixed and every verdict stay the same (README "Output formats").
_show_fixes = click.option(
    "--show-fixes", is_flag=True,
    help="List the fixes applied (or that would be) per file and rule, after the findings.",
)
_severity_threshold = click.option(
    "--severity-threshold", type=click.Choice(("info", "warning", "error")), metavar="LEVEL",
    help="Report only findings at or above LEVEL (info, warning, error); the exit code "
    "follows the findings shown, the verdicts are computed from all.",
)
_color = click.option(
    "--color", type=click.Choice(("auto", "always", "never")), default="auto",
    show_default=True,
    help="Colour findings and diffs; auto: on a terminal, unless NO_COLOR is set (FORCE_COLOR: "
    "also when not a terminal).",
)


def _positive(ctx: click.Context, param: click.Parameter, value: int) -> int:
    # Not click.IntRange: its errors read "'x' is not a valid integer range".
    if value < 1:
        raise click.BadParameter(f"{value} is less than 1 MiB", ctx, param)
    return value


_max_size = click.option(
    "--max-size", type=int, default=DEFAULT_MAX_MIB, show_default=True, metavar="MIB",
    callback=_positive,
    help="Largest input accepted, in MiB.",
)
_config = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Configuration file (default: .winfix.yaml found upward).",
)
_isolated = click.option("--isolated", is_flag=True, help="Ignore configuration files.")
_exit_zero = click.option(
    "--exit-zero", is_flag=True,
    help="Exit 0 even when something would change or errors remain (2 and 3 still mean "
    "what they say).",
)
_statistics = click.option(
    "--statistics", is_flag=True, help="Print how many findings each rule had, after the run."
)
_verbose = click.option(
    "--verbose", "-v", is_flag=True,
    help="Also say which configuration file and which rules are used.",
)


def _run(
    targets: list[str], settings: Settings, rules: tuple[Rule, ...], options: Options, *,
    exit_zero: bool, statistics: bool, verbose: bool,
) -> int:
    """Run the files through the engine; the run options every command shares."""
    from winfix.runner import run

    startup.loaded()  # everything is imported: the input comes next
    if verbose:
        sys.stderr.write(f"winfix: configuration: {settings.source or 'none (defaults)'}\n")
        sys.stderr.write(f"winfix: {len(rules)} rules: {', '.join(r.id for r in rules)}\n")
    code, summary = run(targets, settings, rules, options)
    if statistics:
        sys.stderr.write(format_statistics(summary.findings, options.mode.value))
    return _exit(int(code), exit_zero)


def format_statistics(findings: Iterable[Finding], mode: str) -> str:
    """One line per rule that found something, most findings first (as ruff --statistics):
    the count, the rule, and what became of them ("3 fixed, 1 error")."""
    from collections import Counter

    from winfix.reporting import status

    per_rule: dict[tuple[str, str], Counter[str]] = {}
    for finding in findings:
        per_rule.setdefault((finding.rule, finding.rule_name), Counter())[
            status(finding, mode)
        ] += 1
    if not per_rule:
        return ""
    width = max(len(name) for _, name in per_rule)
    ranked = sorted(per_rule.items(), key=lambda item: (-item[1].total(), item[0][0]))
    return "".join(
        f"{states.total():>5}  {rule}  {name:<{width}}  "
        + ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        + "\n"
        for (rule, name), states in ranked
    )


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _run_options(command: _Command) -> _Command:
    """The options ``apply`` and ``check`` share, in the order their help lists them."""
    for option in reversed((
        _report, _format, _stdin_filename, _quiet, _color, _show_fixes, _severity_threshold,
        _max_size, _config, _isolated, _exit_zero, _statistics, _verbose,
    )):
        command = option(command)
    return command


def _exit(code: int, exit_zero: bool) -> int:
    return 0 if exit_zero and code == 1 else code


@app.command(cls=_SettingsCommand, epilog=EXIT_CODES_HELP, context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@click.option("--diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if anything would change.")
@_run_options
@click.option(
    "--emit-patches", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Write the fixes as a Kustomize component (JSON6902 patches) in DIR; leave the "
    "inputs unchanged.",
)
@click.option(
    "--kustomize", metavar="DIR",
    help="Render DIR with `kustomize build` (or `kubectl kustomize`) and fix the output; "
    "PATHS after -- go to the renderer.",
)
@click.option(
    "--helm", metavar="CHART",
    help="Render CHART with `helm template` and fix the output; PATHS after -- go to helm "
    "template (e.g. -- -f values.yaml).",
)
@click.option("--force", is_flag=True, help="--emit-patches: replace files winfix did not write.")
def apply(  # click passes every parameter by name
    *,
    paths: tuple[str, ...],
    diff: bool,
    check: bool,
    report: Path | None,
    output_format: str,
    stdin_filename: str | None,
    quiet: bool,
    color: str,
    show_fixes: bool,
    severity_threshold: str | None,
    max_size: int,
    config: Path | None,
    isolated: bool,
    exit_zero: bool,
    statistics: bool,
    verbose: bool,
    emit_patches: Path | None,
    kustomize: str | None,
    helm: str | None,
    force: bool,
    **table: Any,
) -> int:
    """Fix manifests in place (or stdin to stdout), or show what would change.

    PATHS are files or directories (*.yaml, *.yml); '-' reads stdin and writes stdout.
    """
    targets = _paths(paths, required=not (kustomize or helm))
    overrides = flag_overrides(APPLY, table)
    settings = build_settings(config, isolated, overrides)
    from_flags = bool({"select", "ignore", "extend_select"} & set(overrides))
    rules = rules_for(settings, from_flags=from_flags)
    from winfix.runner import Mode, Options

    mode = Mode.CHECK if check else Mode.DIFF if diff else Mode.APPLY
    options = Options(
        mode=mode,
        output_format=output_format,
        report=report,
        stdin_filename=stdin_filename,
        max_bytes=max_size * 1024 * 1024,
        quiet=quiet,
        force=force,
        **presentation(color, show_fixes, severity_threshold),
    )
    if diff and check:  # the diff, and the exit code --check would give (the same: 1)
        options.mode = Mode.DIFF
    if emit_patches is not None and (show_fixes or severity_threshold):
        raise ConfigError("--show-fixes and --severity-threshold cannot be combined with "
                          "--emit-patches, which reports what each patch does instead")
    if emit_patches is not None or kustomize or helm:
        if statistics:
            raise ConfigError("--statistics cannot be combined with --emit-patches, "
                              "--kustomize or --helm")
        from winfix import render_and_patch

        startup.loaded()
        code = render_and_patch.run_apply(
            targets, settings, rules, options,
            emit_patches=emit_patches, kustomize=kustomize, helm=helm,
        )
        return _exit(code, exit_zero)
    return _run(targets, settings, rules, options, exit_zero=exit_zero, statistics=statistics,
                verbose=verbose)


@app.command("check", cls=_SettingsCommand, epilog=CHECK_EXIT_HELP, context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@_run_options
def check_command(
    *,
    paths: tuple[str, ...],
    report: Path | None,
    output_format: str,
    stdin_filename: str | None,
    quiet: bool,
    color: str,
    show_fixes: bool,
    severity_threshold: str | None,
    max_size: int,
    config: Path | None,
    isolated: bool,
    exit_zero: bool,
    statistics: bool,
    verbose: bool,
    **table: Any,
) -> int:
    """The verdict of each workload, as `apply` would give it, without changing anything:
    ready, review, blocked (and why) or kept on Linux; with the schema check by default.

    PATHS are files or directories (*.yaml, *.yml); '-' reads stdin.
    """
    from dataclasses import replace

    targets = _paths(paths)
    overrides = flag_overrides(CHECK, table)
    schema = overrides.pop("schema_validation", True)  # check validates unless --no-schema
    settings = build_settings(config, isolated, overrides)
    settings = replace(settings, schema_validation=schema)
    if schema:
        from winfix import schema as schemas

        if schemas.available():  # without the package, WIN901 says so once per file
            try:
                schemas.resolve_version(settings.kubernetes_version)
            except schemas.SchemaUnavailable as exc:
                raise ConfigError(str(exc)) from None
    from winfix.runner import Mode, Options

    rules = rules_for(settings, from_flags=bool(overrides.get("select") or overrides.get("ignore")))
    options = Options(
        mode=Mode.CHECK,
        output_format=output_format,
        report=report,
        stdin_filename=stdin_filename,
        max_bytes=max_size * 1024 * 1024,
        quiet=quiet,
        fail_on_changes=False,
        **presentation(color, show_fixes, severity_threshold),
    )
    return _run(targets, settings, rules, options, exit_zero=exit_zero, statistics=statistics,
                verbose=verbose)


@app.command("krm", context_settings=CONTEXT)
def krm_function() -> int:
    """KRM function: a ResourceList on stdin, the fixed ResourceList on stdout (kpt, kustomize).

    Options come from functionConfig (kind WindowsFix, apiVersion winfix.io/v1alpha1, the
    keys of .winfix.yaml; or a ConfigMap's data). Exit 1 when an error-severity result
    remains, 2 when the functionConfig is invalid.
    """
    from winfix import krm

    return krm.run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr)


@app.group("kustomize-plugin", cls=_Ordered, no_args_is_help=True, context_settings=CONTEXT)
def kustomize_plugin_group() -> None:
    """The Kustomize legacy exec transformer plugin (kind WindowsFix)."""


@kustomize_plugin_group.command("install", context_settings=CONTEXT)
@click.option("--python", metavar="PATH", help="Interpreter the plugin runs (default: this one).")
def kustomize_plugin_install(python: str | None) -> None:
    """Install the plugin under $XDG_CONFIG_HOME/kustomize/plugin (default ~/.config)."""
    from winfix import kustomize_plugin

    path = kustomize_plugin.install(python=python)
    click.echo(f"installed {path}")
    click.echo("use it with: kubectl kustomize --enable-alpha-plugins DIR "
               "(or kustomize build --enable-alpha-plugins DIR)")


@app.command("rules", context_settings=CONTEXT)
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="Output format.")
def list_rules(output_format: str) -> None:
    """List the rules: id, name, fix safety and what each does."""
    from winfix import registry

    rules = registry.all_rules()
    if output_format == "json":
        import json

        data = [
            {"id": r.id, "name": r.name, "safety": str(r.safety), "title": r.title} for r in rules
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max(len(r.name) for r in rules)
    for rule in rules:
        click.echo(f"{rule.id}  {rule.name:<{width}}  {rule.safety!s:<6}  {rule.title}")


@app.command(context_settings=CONTEXT)
@click.argument("rule")
def explain(rule: str) -> None:
    """Print a rule's documentation and an example diff.

    RULE is a rule id or name, e.g. WIN001 or os-name.
    """
    from winfix import registry
    from winfix.explain import explain_text

    click.echo(explain_text(registry.get(rule)), nl=False)


@app.command(cls=_SettingsCommand, epilog=BOT_EXIT_HELP, context_settings=CONTEXT)
@click.option("--dry-run", is_flag=True, help="Print the diff and the PR body; change nothing.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path(),
              metavar="DIR", help="The GitOps clone (default: the current directory).")
@click.option("--remote", default="origin", show_default=True, metavar="NAME",
              help="Git remote to push to.")
@_config
def bot(
    *,
    dry_run: bool,
    repo: Path,
    remote: str,
    config: Path | None,
    **table: Any,
) -> int:
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
    given = flag_overrides(BOT, table)  # over the bot: table of the configuration
    startup.loaded()
    result = run_bot(BotOptions(repo=repo, remote=remote, dry_run=dry_run, config=config,
                                branch=given.get("branch"), base=given.get("base")))
    return int(result.exit_code)


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every outcome to a documented exit code."""
    return flushed(_dispatch(argv))


def _dispatch(argv: list[str] | None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # click's own main() would turn a closed stdout into exit 1 and print usage
        # errors itself; running the context here keeps every outcome in one place.
        with app.make_context("winfix", args) as ctx:
            result = app.invoke(ctx)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.exceptions.NoSuchOption as exc:
        # One wording whatever the click version (8.5 writes "No such option '--x'.").
        close = exc.possibilities[:1] if exc.possibilities else []  # the closest only
        hint = f" (did you mean {close[0]}?)" if close else ""
        click.UsageError(f"No such option: {exc.option_name}{hint}", exc.ctx).show()
        return EXIT_INPUT
    except click.ClickException as exc:  # usage errors: bad flag or value (exit 2)
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return EXIT_INTERRUPTED
    except (Exception, KeyboardInterrupt) as exc:  # the run's errors (winfix.commands)
        return exit_code_for(exc)
