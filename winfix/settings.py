"""Every option winfix reads, declared once, and the frozen ``Settings`` they fill.

An option is one field of ``Settings`` (or of ``BotSettings``, the ``bot:`` table)
whose metadata holds an ``Option`` record: the ``.winfix.yaml`` key, its JSON
schema, how it converts to the field's value, and its command-line flag. Everything
else is derived from these records (``OPTIONS``):

- the JSON schema ``winfix.config`` validates ``.winfix.yaml``/``[tool.winfix]`` and
  KRM/Kustomize function configs with (``config_schema``);
- ``Settings`` from validated config data (``settings_from_data``);
- the flags of ``winfix apply``/``winfix check`` (``winfix.cli``), and so the
  value-taking flags ``winfix.precommit`` must skip over;
- how a ConfigMap's string values are read (``Option.text_form``, ``winfix.krm``).

Adding an option is one field here plus the code that uses it.

A leaf module: it imports nothing from winfix but ``winfix.errors``, so that every
layer (rules, engine, front ends) can depend on it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from collections.abc import Mapping as TMapping
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from winfix.errors import ConfigError

# Windows Server release -> node.kubernetes.io/windows-build label value
# (https://kubernetes.io/docs/concepts/windows/user-guide/ "Ensuring OS-specific workloads").
WINDOWS_BUILDS = {"2019": "10.0.17763", "2022": "10.0.20348", "2025": "10.0.26100"}

# The conventional taint of Windows nodes (kubelet --register-with-taints), see
# https://kubernetes.io/docs/concepts/windows/user-guide/#taints-and-tolerations
DEFAULT_TOLERATION: dict[str, str] = {
    "key": "os",
    "operator": "Equal",
    "value": "windows",
    "effect": "NoSchedule",
}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

HOST_PROCESS_USERS = {
    "system": "NT AUTHORITY\\SYSTEM",
    "localservice": "NT AUTHORITY\\Local service",
    "networkservice": "NT AUTHORITY\\NetworkService",
}

# A Windows mount target: a drive other than C: ("K:"), or a full path ("C:\\data").
DRIVE_PATTERN = "^([A-BD-Za-bd-z]:|[A-Za-z]:\\\\.*)$"
KUBERNETES_VERSION_PATTERN = "^v?1\\.[0-9]+(\\.[0-9]+)?$"

KEPT_ON_LINUX = "kept on Linux by configuration"

# The bot's defaults (`bot:` table).
DEFAULT_BRANCH = "winfix/windows-fixes"
DEFAULT_TITLE = "winfix: make Kubernetes manifests run on Windows nodes"
DEFAULT_AUTHOR_NAME = "winfix-bot"
DEFAULT_AUTHOR_EMAIL = "winfix-bot@users.noreply.github.com"
DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"
DEFAULT_PATHS = ("**/*.yaml", "**/*.yml")

# What a directory walk passes over unless `exclude` says otherwise (gitignore-style
# patterns, as ruff's default `exclude`); hidden folders are passed over regardless.
DEFAULT_EXCLUDE = (".git/", ".hg/", ".svn/", "node_modules/", "__pycache__/", ".venv/")

# Where an option is honoured.
APPLY, CHECK, KRM, BOT = "apply", "check", "krm", "bot"  # krm: KRM function, Kustomize plugin
EVERYWHERE = frozenset({APPLY, CHECK, KRM, BOT})
# The front ends that judge with the fixing rules. `winfix check` is one of them: it
# gives the verdicts `apply` would, computing the same fixes in memory and writing
# nothing, so its flags are apply's (README "Verdicts").
FIXING = frozenset({APPLY, CHECK, KRM, BOT})


@dataclass(frozen=True)
class Option:
    """One option: a config key, and how it reaches ``Settings`` from a file or a flag."""

    key: str  # the .winfix.yaml key; the Settings field is the key with "_" for "-"
    schema: dict[str, Any]  # JSON schema of the config value
    help: str
    convert: Callable[[Any], Any] = lambda value: value  # validated config value -> field value
    where: frozenset[str] = FIXING
    flag: str | None = None  # the long command-line flag; None: set in the file only
    on: frozenset[str] | None = None  # the commands with the flag (default: apply/check in where)
    off_flag: str | None = None  # a flag that sets the option's "off" value (config `false`)
    off_help: str | None = None  # its help, unless the option is a boolean (--x/--no-x)
    metavar: str | None = None
    example: str | None = None  # shown when a flag's value does not match the pattern
    # A flag given more than once adds values; each one is parsed to its config form
    # (for list options: comma-separated items, as ruff's --select).
    parse: Callable[[str], Any] | None = None
    default: Any = None  # filled in from the Settings field

    @property
    def attr(self) -> str:
        return self.key.replace("-", "_")

    @property
    def commands(self) -> frozenset[str]:
        """The subcommands that have this option's flag."""
        if self.flag is None:
            return frozenset()
        return self.on if self.on is not None else self.where & {APPLY, CHECK}

    @property
    def is_bool(self) -> bool:
        return self.schema.get("type") == "boolean"

    @property
    def is_list(self) -> bool:
        return self.schema.get("type") == "array" or self.parse is not None

    @property
    def takes_value(self) -> bool:
        """Whether the flag is followed by a value (``--select X``, not ``--unsafe-fixes``)."""
        return self.flag is not None and not self.is_bool

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed values of a string option with an ``enum`` (items' enum for lists)."""
        enum = self.schema.get("enum") or self.schema.get("items", {}).get("enum") or ()
        return tuple(v for v in enum if isinstance(v, str))

    @property
    def text_form(self) -> str:
        """How a value written as one string (a ConfigMap's data) is read:
        ``list`` (comma-separated), ``pairs`` (``k=v,k=v``), ``text`` (as is) or
        ``yaml`` (a YAML value: booleans, lists, mappings)."""
        kind = self.schema.get("type")
        if kind == "array" and self.schema.get("items", {}).get("type", "string") == "string":
            return "list"
        values = self.schema.get("additionalProperties")
        if kind == "object" and isinstance(values, dict) and values.get("type") == "string":
            return "pairs"
        if kind == "string" or (isinstance(kind, list) and "string" in kind) or self.choices:
            return "text"
        return "yaml"

    def from_flag(self, value: Any) -> Any:
        """The Settings value of a flag's raw value (str, bool, or a tuple when repeated)."""
        if self.is_bool:
            return value
        if self.parse is not None:
            items = [self.parse(v) for v in value]
            data: Any = dict(items) if self.schema.get("type") == "object" else items
            return self.convert(data)
        if self.is_list:
            return self.convert(
                [part.strip() for v in value for part in v.split(",") if part.strip()]
            )
        pattern = self.schema.get("pattern")
        if pattern and not re.search(pattern, value):
            hint = f", e.g. {self.example}" if self.example else ""
            raise ConfigError(f"{self.flag} {value!r}: expected {self.metavar}{hint}")
        return self.convert(value)


def option(default: Any, key: str, schema: dict[str, Any], help: str, **kwargs: Any) -> Any:
    """A dataclass field declaring an option (see ``Option``) with its default."""
    record = Option(key, schema, help, **kwargs)
    return field(default=default, metadata={"option": record})


def options_of(cls: type) -> tuple[Option, ...]:
    """The option records of a settings dataclass, with their defaults, in field order."""
    found = []
    for f in fields(cls):
        record = f.metadata.get("option")
        if record is not None:
            default = f.default if f.default is not MISSING else None
            found.append(replace(record, default=default))
    return tuple(found)


def object_schema(options: tuple[Option, ...]) -> dict[str, Any]:
    """The JSON schema of a table of options: known keys only."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {o.key: o.schema for o in options},
    }


def build(
    cls: type[Any], options: tuple[Option, ...], data: TMapping[str, Any], **extra: Any
) -> Any:
    """An instance of ``cls`` from validated config data (keys not given keep defaults)."""
    kwargs = {o.attr: o.convert(data[o.key]) for o in options if o.key in data}
    return cls(**kwargs, **extra)


# ---------------------------------------------------------------------------
# Value conversions (config form -> Settings field)


def _hours(value: Any) -> int:
    """A whole number of hours from a file (an int) or a flag (its text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise ConfigError(f"image-cache-hours {value!r}: expected a whole number of hours, e.g. 24")
    return int(text)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _version(value: Any) -> str | None:
    return None if value is None else str(value)  # YAML reads 2022 as a number


def _tolerations(value: Any) -> tuple[tuple[tuple[str, Any], ...], ...]:
    return tuple(tuple(t.items()) for t in value or ())  # false: none


def _rule_lists(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((str(k), tuple(v)) for k, v in value.items())


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in value.items())


def _keep_linux(value: Any) -> tuple[KeepLinux, ...]:
    return tuple(
        KeepLinux(
            kind=item.get("kind"),
            name=item.get("name"),
            namespace=item.get("namespace"),
            labels=tuple(sorted((item.get("labels") or {}).items())),
            reason=item.get("reason") or KEPT_ON_LINUX,
        )
        for item in value
    )


def _group_kind(api_version: str, kind: str) -> str:
    # The key BUILTIN_TEMPLATE_PATHS uses (winfix.resources.group_kind); spelled out
    # here because settings is a leaf that cannot import the Kubernetes views.
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else "v1"
    return f"{group}/{kind}"


def _template_paths(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (_group_kind(item["apiVersion"], item["kind"]), tuple(item["paths"])) for item in value
    )


def _overlays(value: Any) -> tuple[Overlay, ...]:
    return tuple(
        Overlay(str(o["source"]).strip("/"), str(o["path"]), o.get("rendered")) for o in value
    )


# ---------------------------------------------------------------------------
# Command-line value forms (flag value -> config form)


def parse_toleration(text: str) -> dict[str, Any]:
    """KEY[=VALUE][:EFFECT], as kubectl taint writes taints."""
    effect = None
    body = text
    if ":" in body:
        body, effect = body.rsplit(":", 1)
    key, _, value = body.partition("=")
    if not key or (effect and effect not in TAINT_EFFECTS):
        raise ConfigError(
            f"--toleration {text!r}: expected KEY[=VALUE][:EFFECT], "
            f"EFFECT one of {', '.join(TAINT_EFFECTS)}"
        )
    toleration: dict[str, Any] = {"key": key, "operator": "Equal" if value else "Exists"}
    if value:
        toleration["value"] = value
    if effect:
        toleration["effect"] = effect
    return toleration


def parse_per_file_ignore(text: str) -> tuple[str, list[str]]:
    """PATTERN:RULES, as ruff's --per-file-ignores (the last colon splits: RULES has none)."""
    pattern, sep, rules = text.rpartition(":")
    codes = [r.strip() for r in rules.split(",") if r.strip()]
    if not sep or not pattern or not codes:
        raise ConfigError(
            f"--per-file-ignores {text!r}: expected PATTERN:RULES (e.g. 'legacy/*.yaml:WIN105')"
        )
    return pattern, codes


def parse_mount(text: str) -> tuple[str, str]:
    prefix, sep, target = text.partition("=")
    if not sep or not prefix.startswith("/") or not re.match(DRIVE_PATTERN, target):
        raise ConfigError(
            f"--mount-path {text!r}: expected /linux/prefix=DRIVE: (e.g. /mnt/data=K:)"
        )
    return prefix, target


def parse_image(text: str) -> tuple[str, str]:
    source, sep, target = text.partition("=")
    if not sep or not source or not target:
        raise ConfigError(
            f"--image-map {text!r}: expected LINUX_IMAGE=WINDOWS_IMAGE "
            "(e.g. nginx=mcr.microsoft.com/oss/nginx/nginx)"
        )
    return source, target


# ---------------------------------------------------------------------------
# Schemas shared by several options

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

_TOLERATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": {"type": "string"},
        "operator": {"enum": ["Equal", "Exists"]},
        "value": {"type": "string"},
        "effect": {"enum": list(TAINT_EFFECTS)},
        "tolerationSeconds": {"type": "integer"},
    },
    "additionalProperties": False,
}

_KEEP_LINUX_SCHEMA: dict[str, Any] = {
    "type": "object",
    # An empty selector would keep every workload on Linux: say which.
    "anyOf": [{"required": [key]} for key in ("kind", "name", "namespace", "labels")],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string"},
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "reason": {"type": "string"},
    },
}

_TEMPLATE_PATHS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "paths"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
}

_OVERLAY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "path"],
    "additionalProperties": False,
    "properties": {
        "source": {"type": "string"},
        "path": {"type": "string"},
        "rendered": {"type": "string"},
    },
}


# ---------------------------------------------------------------------------
# The settings


@dataclass(frozen=True)
class KeepLinux:
    """A ``keep-linux`` selector: the workloads it matches stay on Linux, for ``reason``."""

    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    reason: str = KEPT_ON_LINUX

    def matches(
        self, kind: str, name: str, namespace: str | None, labels: TMapping[str, Any]
    ) -> bool:
        if self.kind and self.kind != kind:
            return False
        if self.name and not fnmatch.fnmatchcase(name, self.name):
            return False
        if self.namespace and not fnmatch.fnmatchcase(namespace or "", self.namespace):
            return False
        return all(labels.get(k) == v for k, v in self.labels)


@dataclass(frozen=True)
class Overlay:
    """A chart or Kustomize base the bot writes a patch overlay for (``bot.overlays``)."""

    source: str  # chart or kustomize folder, relative to the repository root
    path: str  # where the patch overlay is written
    rendered: str | None = None  # a committed file holding the rendered output, if any


def _bot(key: str, default: Any, schema: dict[str, Any], help: str, **kwargs: Any) -> Any:
    bot = frozenset({BOT})
    return option(default, key, schema, help, where=bot, on=bot, **kwargs)


@dataclass(frozen=True)
class BotSettings:
    """The ``bot:`` table of .winfix.yaml, read by ``winfix bot``."""

    paths: tuple[str, ...] = _bot(
        "paths", DEFAULT_PATHS, {**_STRINGS, "minItems": 1},
        "Which files the bot fixes (gitignore patterns, from the repository root).",
        convert=_strings,
    )
    exclude: tuple[str, ...] = _bot(
        "exclude", (), _STRINGS, "Files the bot leaves alone (gitignore patterns).",
        convert=_strings,
    )
    branch: str = _bot(
        "branch", DEFAULT_BRANCH, {"type": "string", "pattern": "^[A-Za-z0-9._/-]+$"},
        f"The branch the bot pushes to (default: {DEFAULT_BRANCH}).",
        flag="--branch", metavar="BRANCH",
    )
    base: str | None = _bot(
        "base", None, {"type": "string"}, "Base branch (default: the repository's).",
        flag="--base", metavar="BRANCH",
    )
    title: str = _bot(
        "title", DEFAULT_TITLE, {"type": "string", "minLength": 1}, "Pull request title."
    )
    author_name: str = _bot(
        "author-name", DEFAULT_AUTHOR_NAME, {"type": "string", "minLength": 1}, "Commit author."
    )
    author_email: str = _bot(
        "author-email", DEFAULT_AUTHOR_EMAIL,
        {"type": "string", "pattern": "^[^<>@\\s]+@[^<>@\\s]+$"}, "Commit author's e-mail.",
    )
    token_env: str = _bot(
        "token-env", DEFAULT_TOKEN_ENV, {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "The environment variable holding the GitHub token.",
    )
    template: str | None = _bot(
        "template", None, {"type": "string"}, "A Jinja2 template for the pull request body."
    )
    # https://example.org/rules/{rule}; default: the rule's reference
    docs_url: str | None = _bot(
        "docs-url", None, {"type": "string"}, "Where rule links in the body point."
    )
    overlays: tuple[Overlay, ...] = _bot(
        "overlays", (), {"type": "array", "items": _OVERLAY_SCHEMA},
        "Charts and Kustomize bases rendered at deploy time: get a patch overlay.",
        convert=_overlays,
    )

    def __post_init__(self) -> None:
        branch = self.branch
        if ".." in branch or branch.startswith("/") or branch.endswith(("/", ".lock")):
            raise ConfigError(f"bot.branch {branch!r} is not a valid git branch name")


BOT_OPTIONS = options_of(BotSettings)


def _bot_settings(value: Any) -> BotSettings:
    return build(BotSettings, BOT_OPTIONS, value)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Settings:
    """Every option's value for a run (the fields with an ``Option`` record), where they
    came from, and the flags laid over them."""

    select: tuple[str, ...] = option(  # empty: every rule
        (), "select", _STRINGS, "Only these rules: ids, id prefixes or names, comma-separated.",
        convert=_strings, flag="--select", metavar="RULES",
    )
    ignore: tuple[str, ...] = option(
        (), "ignore", _STRINGS, "Skip these rules (wins over --select).",
        convert=_strings, flag="--ignore", metavar="RULES",
    )
    # Added to select wherever each is given (file, flags, functionConfig), as ruff's
    # extend-select: a file's selection can be widened without being repeated.
    extend_select: tuple[str, ...] = option(
        (), "extend-select", _STRINGS, "Also these rules, on top of --select (or the file's).",
        convert=_strings, flag="--extend-select", metavar="RULES",
    )
    unsafe_fixes: bool = option(
        False, "unsafe-fixes", {"type": "boolean"}, "Also apply fixes that change behaviour.",
        flag="--unsafe-fixes", off_flag="--no-unsafe-fixes",
    )
    on_blocked: str = option(
        "leave", "on-blocked", {"enum": ["leave", "pin-linux"]},
        "A workload that cannot run on Windows: leave it as it was (exit 1), or pin it to "
        "Linux nodes (verdict linux).",
        flag="--on-blocked", metavar="leave|pin-linux",
    )
    windows_version: str | None = option(
        None, "windows-version", {"enum": [None, "2019", "2022", "2025", 2019, 2022, 2025]},
        "Target Windows Server version: adds node.kubernetes.io/windows-build.",
        convert=_version, flag="--windows-version", metavar="VERSION",
    )
    tolerations: tuple[tuple[tuple[str, Any], ...], ...] = option(
        (tuple(DEFAULT_TOLERATION.items()),), "tolerations",
        {"oneOf": [{"type": "array", "items": _TOLERATION_SCHEMA}, {"const": False}]},
        "Toleration to add, KEY[=VALUE][:EFFECT] (repeatable; default os=windows:NoSchedule).",
        convert=_tolerations, flag="--toleration", metavar="TOLERATION",
        parse=parse_toleration, off_flag="--no-tolerations",
        off_help="Add no tolerations (untainted Windows nodes).",
    )
    runtime_class: str | None = option(
        None, "runtime-class", {"type": ["string", "null"]},
        "The Windows RuntimeClass: apply schedules pods with it; check accepts it as "
        "placing pods on Windows nodes.",
        where=EVERYWHERE, flag="--runtime-class", metavar="NAME",
    )
    host_process_user: str = option(
        "system", "host-process-user", {"enum": sorted(HOST_PROCESS_USERS)},
        "User for HostProcess conversions.", flag="--host-process-user", metavar="USER",
    )
    mount_paths: tuple[tuple[str, str], ...] = option(
        (), "mount-paths",
        {"type": "object", "additionalProperties": {"type": "string", "pattern": DRIVE_PATTERN}},
        "Map a Linux mount prefix to a drive, /mnt/data=K: (repeatable).",
        convert=_pairs, flag="--mount-path", metavar="PREFIX=DRIVE", parse=parse_mount,
    )
    # WIN151: Linux mount paths already land on C:\<path> (windows-rules.md §(b)), so by
    # default they are left as written; "windows" writes every one out as C:\... .
    mount_path_style: str = option(
        "as-is", "mount-path-style", {"enum": ["as-is", "windows"]},
        "Linux mountPaths: as-is (/data is C:\\data on Windows anyway) or windows (written "
        "as C:\\data).",
        flag="--mount-path-style", metavar="as-is|windows",
    )
    image_map: tuple[tuple[str, str], ...] = option(
        (), "image-map", {"type": "object", "additionalProperties": {"type": "string"}},
        "Replace a Linux image with a Windows one, LINUX=WINDOWS (repeatable).",
        convert=_pairs, flag="--image-map", metavar="LINUX=WINDOWS", parse=parse_image,
    )
    # Image resolution (README "Images"): off by default, so that a Helm post-renderer
    # or a Kustomize build never touches the network unasked.
    resolve_images: bool = option(
        False, "resolve-images", {"type": "boolean"},
        "Ask each image's registry whether it runs on the target Windows build.",
        where=EVERYWHERE, flag="--resolve-images", off_flag="--no-resolve-images",
    )
    offline: bool = option(
        False, "offline", {"type": "boolean"},
        "With --resolve-images: answer from the image cache only (no network).",
        where=EVERYWHERE, flag="--offline", off_flag="--no-offline",
    )
    image_cache_hours: int = option(
        24, "image-cache-hours", {"type": "integer", "minimum": 0},
        "How long a registry's answer is reused from the cache, in hours.",
        convert=_hours, where=EVERYWHERE, flag="--image-cache-hours", metavar="HOURS",
    )
    insecure_registries: tuple[str, ...] = option(
        (), "insecure-registries", _STRINGS,
        "A registry reached over plain HTTP (never by default), HOST[:PORT] (repeatable).",
        convert=_strings, where=EVERYWHERE, flag="--insecure-registry", metavar="HOST[:PORT]",
    )
    # Structured options (selectors, per-kind paths) are written in the file only.
    keep_linux: tuple[KeepLinux, ...] = option(
        (), "keep-linux", {"type": "array", "items": _KEEP_LINUX_SCHEMA},
        "Workloads to leave on Linux: selectors by kind, name, namespace, labels.",
        convert=_keep_linux,
    )
    pod_template_paths: tuple[tuple[str, tuple[str, ...]], ...] = option(
        (), "pod-template-paths", {"type": "array", "items": _TEMPLATE_PATHS_SCHEMA},
        "Where custom kinds hold pod templates.", convert=_template_paths, where=EVERYWHERE,
    )
    cluster_domain: str = option(
        "cluster.local", "cluster-domain", {"type": "string"},
        "The cluster's DNS domain (for qualifying Service names).",
        flag="--cluster-domain", metavar="DOMAIN",
    )
    profiles: tuple[str, ...] = option(
        (), "profiles", {"type": "array", "items": {"enum": ["azure-npm"]}},
        "Platform profiles to check for (azure-npm: same as --network-policy azure-npm).",
        convert=_strings, flag="--profile", metavar="PROFILE",
    )
    # WIN160: service meshes the cluster runs, on top of those the run itself shows
    # (injection annotations or labels on pods and Namespaces, the meshes' own kinds).
    meshes: tuple[str, ...] = option(
        (), "meshes", {"type": "array", "items": {"enum": ["istio", "linkerd", "osm"]}},
        "A service mesh the cluster runs (repeatable): its sidecar injection is switched off "
        "on Windows pods.",
        convert=_strings, flag="--mesh", metavar="MESH",
    )
    # The cluster's network policy engine; "azure-npm" turns on the Azure NPM
    # (Windows) NetworkPolicy checks. None: not said.
    network_policy: str | None = option(
        None, "network-policy", {"enum": ["azure-npm", "calico", "none"]},
        "The cluster's NetworkPolicy engine (azure-npm turns on its Windows checks).",
        flag="--network-policy", metavar="ENGINE",
    )
    # Offline OpenAPI schema check of the output (optional extra winfix[schema]): the
    # Kubernetes version whose schemas are used (None: the newest installed), and
    # whether `winfix apply` runs it too (`winfix check` does unless --no-schema).
    kubernetes_version: str | None = option(
        None, "kubernetes-version", {"type": "string", "pattern": KUBERNETES_VERSION_PATTERN},
        "Schema version to validate against (default: the newest installed).",
        where=EVERYWHERE, flag="--kubernetes-version", metavar="MAJOR.MINOR", example="1.32",
    )
    schema_validation: bool = option(
        False, "schema-validation", {"type": "boolean"},
        "Validate built-in kinds against the Kubernetes OpenAPI schema (needs winfix[schema]; "
        "check does unless --no-schema).",
        where=EVERYWHERE, flag="--schema", off_flag="--no-schema",
    )
    # File selection (README "Choosing files"), read by winfix.selection: which files a
    # directory walk passes over, and which rules are off for some files.
    respect_gitignore: bool = option(
        True, "respect-gitignore", {"type": "boolean"},
        "When walking directories, pass over what .gitignore and .ignore files exclude.",
        flag="--respect-gitignore", off_flag="--no-respect-gitignore",
    )
    exclude: tuple[str, ...] = option(
        DEFAULT_EXCLUDE, "exclude", _STRINGS,
        "Files and folders a walk passes over (gitignore-style patterns; replaces the "
        "default list).", convert=_strings, flag="--exclude", metavar="PATTERNS",
    )
    extend_exclude: tuple[str, ...] = option(
        (), "extend-exclude", _STRINGS,
        "More patterns a walk passes over, on top of exclude.",
        convert=_strings, flag="--extend-exclude", metavar="PATTERNS",
    )
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = option(
        (), "per-file-ignores", {"type": "object", "additionalProperties": _STRINGS},
        "Rules that do not run on files matching a pattern, PATTERN:RULES (repeatable).",
        convert=_rule_lists, flag="--per-file-ignores", metavar="PATTERN:RULES",
        parse=parse_per_file_ignore,
    )
    bot: BotSettings = option(  # noqa: RUF009 - a frozen, immutable default
        BotSettings(), "bot", object_schema(BOT_OPTIONS), "The `winfix bot` settings.",
        convert=_bot_settings, where=frozenset({BOT}),
    )
    source: str | None = None  # the config file these came from
    # The flags' values (Settings fields) laid over the file: winfix.selection lays them
    # over each file's nearest configuration too, and reads their patterns from the
    # working directory. per_file_config: no --config, so each file's nearest one counts.
    flag_values: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    per_file_config: bool = False

    def __post_init__(self) -> None:
        # An empty select is every rule already; otherwise extend-select widens it. Done
        # here, so every front end (and every replace()) sees one selection.
        extra = tuple(r for r in self.extend_select if r not in self.select)
        if self.select and extra:
            object.__setattr__(self, "select", self.select + extra)

    @property
    def windows_build(self) -> str | None:
        return WINDOWS_BUILDS.get(self.windows_version or "")

    def toleration_dicts(self) -> list[dict[str, Any]]:
        return [dict(items) for items in self.tolerations]

    def template_paths(self) -> dict[str, tuple[str, ...]]:
        """``pod-template-paths`` by group/kind: one dict per settings, shared by every
        caller (rules ask for it of every resource): read it, never change it."""
        return self._template_paths

    @cached_property  # settings are frozen: the answer never changes
    def _template_paths(self) -> dict[str, tuple[str, ...]]:
        return dict(self.pod_template_paths)

    @property
    def azure_npm(self) -> bool:
        """The cluster enforces NetworkPolicy with Azure NPM (`network-policy: azure-npm`)."""
        return self.network_policy == "azure-npm" or "azure-npm" in self.profiles


OPTIONS = options_of(Settings)
OPTION_BY_KEY = {o.key: o for o in OPTIONS}


def config_schema() -> dict[str, Any]:
    """The JSON schema of ``.winfix.yaml`` (and ``[tool.winfix]``, function configs)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **object_schema(OPTIONS)}


def settings_from_data(data: TMapping[str, Any], source: str | None = None) -> Settings:
    """Settings from already-validated config data (file, KRM functionConfig)."""
    return build(Settings, OPTIONS, data, source=source)  # type: ignore[no-any-return]
