"""What a rule is, and the context it reports through.

A rule module in ``transforms/`` defines one ``RULE = Rule(...)``. Its ``check``
function looks at a resource and never prints or exits. It records a finding with
``RuleContext.report``, or a finding that comes with a fix with ``RuleContext.fix``,
which names the fix's safety and applies it when the safety and the settings allow.
A rule never emits a fix less safe than its declared ``Rule.safety``.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from winfix.model import Finding, ResourceRef, Safety, Severity, plain_finding
from winfix.resources import (
    SERVICE,
    PodInfo,
    PodTemplate,
    Resource,
    ServiceInfo,
    pod_info,
    service_info,
    targets_windows,
)
from winfix.settings import Settings
from winfix.yamltree import Lines, Mapping, Node

if TYPE_CHECKING:
    from winfix.images.lookup import ImageLookup

T = TypeVar("T")

RULE_ID = re.compile(r"^WIN\d{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Selection(enum.Enum):
    """How ``select``/``ignore`` treat a rule (``winfix.policy`` decides from this)."""

    OPTIONAL = "optional"  # runs when selected and not ignored
    # Survives a narrowing ``select`` (someone who suppresses a rule with an empty
    # reason should hear why even in a narrowed run); an explicit ``ignore`` drops it.
    KEPT = "kept"
    # Runs whatever ``select`` and ``ignore`` say: the self-checks, which are what
    # stops a narrowed run from writing manifests the API server rejects with exit 0.
    ALWAYS = "always"


@dataclass(frozen=True)
class Rule:
    """One rule: its id, what it checks and fixes, and what of the run it needs."""

    id: str
    name: str
    title: str  # one line, for `winfix rules`
    # The least safe fix the rule may emit: SAFE (all its fixes are safe), UNSAFE (some
    # need --unsafe-fixes) or NONE (report only). `winfix rules` and the README show it;
    # RuleContext.fix refuses a fix less safe than this.
    safety: Safety
    check: Callable[[Resource, RuleContext], None]
    doc: str = ""  # Markdown; filled from the module docstring by the registry
    # Rules that only place workloads on Linux-kept resources too (see `keep-linux`).
    applies_to_linux_kept: bool = False
    # Rules that only look at pod templates are not run on other resources
    # (half of a typical bundle is Services, ConfigMaps and RBAC).
    pods_only: bool = False
    # Streaming: a document is finished (rules, edits, tree freed) as soon as it is
    # read, unless a rule needs the rest of the run for it. ``keeps(resource)``: the
    # rule reads this resource from the stream or acts on it with stream data (a
    # RuntimeClass, a NetworkPolicy); ``needs_stream(resource, settings)``: this
    # workload may need other resources of the stream (a Service it refers to by
    # name). Every Service's summary is kept as it is read (``StreamInfo.services``),
    # and a report-only rule can finish a check at the end (``RuleContext.later``):
    # neither makes a document wait.
    keeps: Callable[[Resource], bool] | None = None
    needs_stream: Callable[[Resource, Settings], bool] | None = None
    # ``keeps`` and ``needs_stream`` are asked only in a run whose input mentions these
    # words somewhere (a scan of the text before the first document): the evidence the
    # rule waits for cannot exist without them, so a run that never names them keeps
    # nothing for it.
    waits_on_words: re.Pattern[str] | None = None
    # What the rule reads of the rest of the run is summaries only (``StreamInfo.pods``,
    # ``StreamInfo.services``), never another document's tree (``resources``, ``kept``).
    # A document kept only for such rules is held as its place in the text and its
    # summaries, and finished alone after the others (issue 16: memory flat in the run).
    reads_summaries: bool = False
    # The kinds (``v1/Service``) for which the rule reads the run's pod summaries
    # (``StreamInfo.pods``). A run of one file whose text never names any of them, of
    # the rules it runs, keeps no summary of its finished workloads (issue 16: memory
    # flat in the stream's length). A rule reading them for another kind in such a run
    # gets its internal error (``PodsNotKept``), not an empty list.
    reads_pods_for: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    selection: Selection = Selection.OPTIONAL
    # Its fix is what places a workload on Windows nodes (the node selector): while it
    # runs for a resource, that resource goes to Windows even before the fix lands.
    places_on_windows: bool = False
    # Checks the opt-out annotations themselves, so they do not switch it off.
    reads_opt_outs: bool = False

    def __post_init__(self) -> None:
        if getattr(self.check, "__module__", "").startswith(f"{TRANSFORMS}."):
            _DEFINED[self.id] = self


@dataclass(frozen=True)
class ResourcePlan:
    """What the settings and a resource's own annotations decide for it (``winfix.policy``)."""

    ignore_all: str | None = None  # the reason of ``winfix.io/ignore-all``, when given
    ignored: frozenset[str] = frozenset()  # keys of ``ignore-check.winfix.io/<key>`` with a reason
    keep_linux: str | None = None  # why it stays on Linux, when it does
    has_pods: bool = True
    places_on_windows: bool = False  # the placement rule runs for it

    @property
    def usual(self) -> bool:
        """No opt-out and not kept on Linux: every rule runs, but for ``pods_only``
        rules without pods."""
        return self.ignore_all is None and not (self.ignored or self.keep_linux)

    def runs(self, rule: Rule) -> bool:
        if rule.pods_only and not self.has_pods:
            return False
        if self.usual:
            return True
        if rule.reads_opt_outs:
            return True
        if self.ignore_all is not None or {rule.id, rule.name, rule.id.lower()} & self.ignored:
            return False
        return not self.keep_linux or rule.applies_to_linux_kept

    def goes_to_windows(self, pod: PodTemplate) -> bool:
        """The pod template runs on Windows nodes once winfix has fixed the stream.

        Right before and after the placement rule's fix: a workload the placement
        rule runs for is placed by it, and one it does not run for (kept on Linux,
        opted out, or not selected) goes to Windows only if it says so itself.
        """
        return self.places_on_windows or targets_windows(pod)


# The package the rule modules load as (a wheel ships it; from a checkout the registry
# binds the repository's transforms/ folder under this name).
TRANSFORMS = "winfix.transforms"
# Rules defined by the modules of that package. The registry imports every module
# before any rule runs (``all_rules`` loads them all, whatever is selected), so this
# is the set of rules winfix knows, and WIN000 can read it without importing the
# registry that loads WIN000. Rules defined elsewhere (test doubles) do not count.
_DEFINED: dict[str, Rule] = {}


def known_rule_keys() -> frozenset[str]:
    """Every key that names a rule: its id, its id in lower case, its name."""
    return frozenset(
        key for rule in _DEFINED.values() for key in (rule.id, rule.id.lower(), rule.name)
    )


class PodsNotKept(Exception):  # not RuntimeError: mypyc compiles no subclass of it
    """A rule asked for the run's pods in a run that keeps none: it reads them for a
    kind it does not name in ``Rule.reads_pods_for`` (a rule's bug, reported as the
    rule's internal error)."""


@dataclass
class StreamInfo:
    """What a rule may know about the rest of the run (other resources).

    One run is every file given to it (``winfix.engine.Run``): a directory walk,
    several paths, pre-commit's file list, the bot's repository, or one stream. The
    indexes see every resource of the run, whatever file it came from, each with
    its own file's plan and pod template paths; they hold facts about resources
    only (names, labels, ports, placement), never a file's settings: a rule
    combines an index with ``ctx.settings`` (its resource's file's settings) where
    it uses it. Rules that look across resources build their indexes once per run
    and rule with ``memo``; the memo is cleared before each rule runs, so an index
    always reflects what earlier rules changed.
    """

    resources: list[Resource] = field(default_factory=list)  # kept with their trees
    # Pods of the workloads kept as summaries (``keep_summary``), until they are finished.
    late: list[PodInfo] = field(default_factory=list)
    _services: list[ServiceInfo] = field(default_factory=list)  # every Service read
    # The run's image results (``resolve-images``), or None: nothing may be asked online.
    images: ImageLookup | None = None
    plans: dict[int, ResourcePlan] = field(default_factory=dict)  # id(resource) -> its plan
    finished: list[PodInfo] = field(default_factory=list)  # workloads already written out
    # False in a run of one file that holds nothing ``Rule.reads_pods_for`` reads pods
    # for: ``finished`` stays empty, and ``pods`` is not to be asked.
    keeps_pods: bool = True
    # The file the rules are looking at now (its position in the run): for what is
    # said or indexed once per file (``once``, ``file_memo``).
    file: int = 0
    # Whether the run's input holds these words anywhere (``Rule.waits_on_words``): a
    # rule whose evidence cannot exist without them skips a run that never names them.
    mentions: Callable[[re.Pattern[str]], bool] = field(default=lambda _words: True)
    _paths: dict[int, dict[str, tuple[str, ...]] | None] = field(default_factory=dict)
    # ``resources`` by group/kind, kept with them: a rule asking for the run's
    # Namespaces for every workload must not walk every kept Service each time.
    _by_kind: dict[str, list[Resource]] = field(default_factory=dict)
    # And by name within a kind, the first of each name (``kept_named``): every workload
    # looks up its Namespace and its RuntimeClass.
    _by_name: dict[str, dict[str, Resource]] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)
    _caching: bool = False
    _once: set[tuple[int, str]] = field(default_factory=set)

    @property
    def caching(self) -> bool:
        """True in the final pass, when the whole run is known."""
        return self._caching

    def once(self, key: str) -> bool:
        """True the first time ``key`` is asked for the current file (a note per file)."""
        if (self.file, key) in self._once:
            return False
        self._once.add((self.file, key))
        return True

    def begin_rule(self) -> None:
        """Start a rule's pass over the whole (now complete) run."""
        self._memo.clear()
        self._caching = True

    def streaming(self) -> None:
        """While documents are still being read, indexes would go stale: none are kept."""
        self._memo.clear()
        self._caching = False

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` once per run and rule (an index over ``resources``).

        While documents are still being read, kept resources and finished summaries
        only grow (rules do not run on kept documents until the final pass), so an
        index stays right until one more arrives.
        """
        version = (len(self.resources), len(self.finished), len(self.late), len(self._services))
        entry = self._memo.get(key)
        if entry is None or (not self._caching and entry[0] != version):
            entry = self._memo[key] = (version, build())
        value: T = entry[1]
        return value

    def file_memo(self, key: str, build: Callable[[], T]) -> T:
        """``memo`` for an index of the current file's own data (its findings)."""
        return self.memo(f"{key}\0{self.file}", build)

    def keep(
        self,
        resource: Resource,
        plan: ResourcePlan,
        template_paths: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """A resource kept for the final pass, with what its file's policy decided for it
        and its file's pod template paths."""
        self.resources.append(resource)
        self._index(resource)
        self.plans[id(resource)] = plan
        self._paths[id(resource)] = template_paths

    def keep_summary(self, pods: list[PodInfo]) -> tuple[int, int]:
        """A document kept for the final pass as summaries only (its tree is dropped):
        ``pods`` (its workloads'). Returns where they are in ``late``, to replace them
        once it is finished (``finish_late``)."""
        start = len(self.late)
        self.late.extend(pods)
        return start, len(self.late)

    def read_services(self, resources: list[Resource]) -> None:
        """The summaries of a document's Services, as it is read: every Service of the
        run, whether its document is finished at once or kept (the Service summaries
        are what rules read of Services, so no Service waits for them)."""
        for resource in resources:
            if resource.group_kind == SERVICE:
                self._services.append(service_info(resource))

    def finish_late(self, where: tuple[int, int], pods: list[PodInfo]) -> None:
        """The pods of a workload kept as summaries, as its rules left them."""
        self.late[where[0] : where[1]] = pods

    def services(self) -> list[ServiceInfo]:
        """Every Service of the run read so far, in run order."""
        return self._services

    def _index(self, resource: Resource) -> None:
        self._by_kind.setdefault(resource.group_kind, []).append(resource)
        self._by_name.setdefault(resource.group_kind, {}).setdefault(resource.name, resource)

    def kept(self, kind: str) -> list[Resource]:
        """The kept resources of one group/kind (``v1/Namespace``), in run order."""
        return self._by_kind.get(kind, [])

    def kept_named(self, kind: str, name: str) -> Resource | None:
        """The first kept resource of one group/kind with this name, or None: what a scan
        of ``kept(kind)`` finds first, without the scan (4,000 workloads, each looking up
        its Namespace among 4,000, were quadratic)."""
        return self._by_name.get(kind, {}).get(name)

    def plan(self, resource: Resource) -> ResourcePlan:
        return self.plans.get(id(resource)) or ResourcePlan()

    def mark(self) -> StreamMark:
        """Where the run stands, to ``withdraw`` a file read after it."""
        return StreamMark(
            len(self.resources), len(self.finished), len(self.late), len(self._services),
            frozenset(self._once),
        )

    def withdraw(self, mark: StreamMark) -> None:
        """Forget everything read after ``mark`` (a file that turned out not to be
        input: a YAML error, an unrendered template)."""
        resources, finished, late, services, once = mark
        for resource in self.resources[resources:]:
            self.plans.pop(id(resource), None)
            self._paths.pop(id(resource), None)
        del self.resources[resources:]
        self._by_kind, self._by_name = {}, {}
        for resource in self.resources:
            self._index(resource)
        del self.finished[finished:]
        del self.late[late:]
        del self._services[services:]
        self._once = set(once)
        self._memo.clear()

    def clear(self) -> None:
        self.resources.clear()
        self.late.clear()
        self._services.clear()
        self._by_kind.clear()
        self._by_name.clear()
        self.plans.clear()
        self._paths.clear()

    def pods(self) -> list[PodInfo]:
        """Every pod template of the run: finished workloads, those kept as summaries,
        and those kept with their trees (each read with its own file's pod template paths)."""
        if not self.keeps_pods:
            raise PodsNotKept(
                "the run's pod summaries were asked for, but not kept: the rule must name "
                "the kind it reads them for in Rule.reads_pods_for"
            )

        def build() -> list[PodInfo]:
            kept = [
                pod_info(resource, pod, self.plan(resource).goes_to_windows(pod))
                for resource in self.resources
                for pod in resource.pod_templates(self._paths.get(id(resource)))
            ]
            return self.finished + self.late + kept

        return self.memo("pods", build)


class StreamMark(NamedTuple):
    """How much of each of ``StreamInfo``'s lists a run had read (``StreamInfo.mark``)."""

    resources: int
    finished: int
    late: int
    services: int
    once: frozenset[tuple[int, str]]


# The fixes a rule may emit, by its declared safety (NONE: report only, no fix at all).
_ALLOWED_FIXES = {
    Safety.SAFE: (Safety.SAFE,),
    Safety.UNSAFE: (Safety.SAFE, Safety.UNSAFE),
    Safety.NONE: (),
}


class FixSafetyError(Exception):  # not RuntimeError: mypyc compiles no subclass of it
    """A rule emitted a fix less safe than it declares: a bug in the rule, not in the input."""


class Later(NamedTuple):
    """A check a rule finishes in the final pass (``RuleContext.later``): the resource
    as its findings name it (its tree is gone by then), and what the rule kept. A
    bundle leaves one for each of its Services: shared objects and offsets only."""

    rule: Rule
    plan: ResourcePlan
    finish: Callable[[RuleContext, Any], None]
    data: Any
    ref: ResourceRef
    path: str
    document: int
    file: str
    template: str | None
    start: int  # where the resource's root is in the text
    src: Lines | None

    def resource(self) -> Resource:
        """The resource, an empty mapping where its root was (for the findings' lines)."""
        ref = self.ref
        return Resource(
            Mapping(False, self.start, self.src), self.path, ref.api_version, ref.kind,
            self.document, self.file, self.template, _ref=ref,
        )


class RuleContext:
    """Per rule and resource: settings, and the sink findings go to."""

    def __init__(
        self,
        rule: Rule,
        resource: Resource,
        settings: Settings,
        findings: MutableSequence[Finding],
        stream: StreamInfo | None = None,
        *,
        plan: ResourcePlan | None = None,
        template_paths: dict[str, tuple[str, ...]] | None = None,
        keep_values: bool = True,
        later: list[Later] | None = None,
    ):
        """``keep_values``: record each finding's ``current`` and ``proposed`` values.
        Only the KRM function's results show them; a CLI run of 50,000 resources would
        hold ~20 MiB of them to the end (issue 16). ``later``: where ``later`` leaves
        checks for the final pass (without it they are finished at once)."""
        self.keep_values = keep_values
        self._later = later
        self.rule = rule
        self.resource = resource
        self.settings = settings
        self.findings = findings
        self.stream = stream or StreamInfo()
        self.plan = plan or ResourcePlan()
        self.template_paths = (
            settings.template_paths() if template_paths is None else template_paths
        )

    @property
    def keep_linux(self) -> str | None:
        """Why the resource stays on Linux, when it does."""
        return self.plan.keep_linux

    def goes_to_windows(self, pod: PodTemplate) -> bool:
        """One of this resource's pod templates runs on Windows once the stream is fixed."""
        return self.plan.goes_to_windows(pod)

    def pod_templates(self) -> list[PodTemplate]:
        return self.resource.pod_templates(self.template_paths)

    def later(self, finish: Callable[[RuleContext, T], None], data: T) -> None:
        """Finish this rule's check of the resource once the whole run is known, without
        keeping its document to the end: ``finish(context, data)`` runs in the final pass,
        after every workload is finished. WIN203 asks there how many Windows pods a
        Service selects (the run's last workload may be one), where a Service kept to
        the end was parsed twice (issue 16).

        By then the resource's tree is gone: the context's resource is an empty mapping
        where its root was (its name is ``resource.ref``'s), and ``data`` must hold no
        tree (offsets, not nodes: ``at`` takes either). Report-only rules alone: the
        document's fixes were collected when it was read. In the final pass, or without
        a run, ``finish`` runs at once."""
        if self.rule.safety is not Safety.NONE:
            raise FixSafetyError(f"{self.rule.id} fixes: only a report-only rule finishes later")
        if self._later is None or self.stream.caching:
            finish(self, data)
            return
        resource = self.resource
        self._later.append(
            Later(
                self.rule, self.plan, finish, data, resource.ref, resource.path,
                resource.document, resource.file, resource.template, resource.root.start,
                resource.root.src,
            )
        )

    def report(
        self,
        path: str,
        message: str,
        *,
        at: Node | int | None = None,
        severity: Severity = Severity.WARNING,
        current: Any = None,
        proposed: Any = None,
    ) -> None:
        """Record a finding that offers no fix (a finding with one goes through ``fix``)."""
        self._record(
            path, message, at=at, severity=severity, safety=Safety.NONE, fixed=False,
            current=current, proposed=proposed,
        )

    def fix(
        self,
        path: str,
        message: str,
        apply: Callable[[], None],
        safety: Safety,
        *,
        at: Node | None = None,
        severity: Severity = Severity.WARNING,
        current: Any = None,
        proposed: Any = None,
    ) -> bool:
        """Record a finding that comes with a fix, and apply the fix when ``safety`` allows.

        ``apply`` runs for a SAFE fix, and for an UNSAFE one with ``--unsafe-fixes``;
        otherwise the message says a fix is available. Returns whether it was applied.
        Raises ``FixSafetyError`` for a fix less safe than the rule declares, whether or
        not it would be applied: ``winfix rules`` must not call a rule safer than it is.
        """
        declared = self.rule.safety
        if safety not in _ALLOWED_FIXES[declared]:
            raise FixSafetyError(
                f"{self.rule.id} is declared {declared} and emitted a {safety} fix at {path}"
            )
        applied = safety is Safety.SAFE or self.settings.unsafe_fixes
        if applied:
            apply()
        else:
            message = f"{message} [unsafe fix available: --unsafe-fixes]"
        self._record(
            path, message, at=at, severity=severity, safety=safety, fixed=applied,
            current=current, proposed=proposed,
        )
        return applied

    def _record(
        self,
        path: str,
        message: str,
        *,
        at: Node | int | None,
        severity: Severity,
        safety: Safety,
        fixed: bool,
        current: Any,
        proposed: Any,
    ) -> None:
        resource = self.resource
        line, column = self._location(at)
        # A bundle repeats the same message and path for every workload: one shared
        # string each keeps tens of thousands of findings small.
        message, path = sys.intern(message), sys.intern(path)
        if not self.keep_values or (current is None and proposed is None):
            self.findings.append(
                plain_finding(
                    self.rule.id, self.rule.name, severity, safety, fixed, message,
                    resource.ref, resource.file, line, column, path, resource.template,
                    resource.document,
                )
            )
            return
        self.findings.append(
            Finding(
                rule=self.rule.id, rule_name=self.rule.name, severity=severity,
                message=message, resource=resource.ref, file=resource.file, line=line,
                column=column, path=path, fixed=fixed, safety=safety,
                template=resource.template, document=resource.document,
                current=current, proposed=proposed,
            )
        )

    def _location(self, at: Node | int | None) -> tuple[int, int]:
        """1-based line and column of ``at`` (a node, or an offset in the resource's
        text), or of the resource where it has none."""
        root = self.resource.root
        if isinstance(at, int):
            line, column = root.src.position(at) if root.src is not None else (0, 0)
        else:
            line, column = (at if at is not None and not at.is_new else root).place
        return line + 1, column + 1
