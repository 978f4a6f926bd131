"""The scenario model: a simulated world plus time, loaded from YAML in `scenarios/`.

A scenario names its start instant and default speed, the host (Talos) and registry it runs
against, the objects that exist at time zero, scripted actions at virtual times, reactive stages in
the spirit of kwok, exec handlers, the app endpoint's readiness rule, and the bootstrapper
invocations `appliance-sim run --bootstrap` performs. Loading errors name the file, the line, the
field and the reason, because scenarios are written by hand from field logs; what a scenario may
ask (sizes, durations, counts) is bounded by `simulator.world.scenario_limits`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator.errors import SimulatorError
from simulator.neighbours.app_endpoint import AppSpec
from simulator.neighbours.registry import RegistryContents
from simulator.neighbours.talos import HostSpec
from simulator.world.durations import parse_duration
from simulator.world.predicates import check_path
from simulator.world.scenario_limits import (
    MAX_ACTIONS,
    MAX_OBJECTS,
    ScenarioFileError,
    read_scenario_text,
    workload_problems,
)
from simulator.world.yaml_locations import YamlSyntaxError, load_located

__all__ = [
    "VERB_FIELDS",
    "Action",
    "AppSpec",
    "BootstrapPlan",
    "BootstrapRun",
    "ContainerOutcome",
    "Duration",
    "EventSpec",
    "ExecHandler",
    "FaultSpec",
    "FieldPredicate",
    "LogSpec",
    "Match",
    "ObjectRef",
    "ObjectState",
    "Scenario",
    "ScenarioError",
    "Stage",
    "StageEffect",
    "load_scenario",
    "parse_scenario",
]


class ScenarioError(SimulatorError, ValueError):
    """A scenario file cannot be used; the message names file:line, the field and the reason."""


# More than a few errors at once is one mistake repeated; the first ones say what it is.
_SHOWN_ERRORS = 5


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


def _regex(value: str) -> str:
    """`value` if it compiles as a regular expression, else a ValueError saying why."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_regex)]


class ObjectRef(_Model):
    """One object: by name, or the objects of a kind carrying `labels` in a namespace."""

    api_version: str = Field(alias="apiVersion")
    kind: str
    namespace: str | None = None
    name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs_name_or_labels(self) -> ObjectRef:
        if self.name is None and not self.labels:
            raise ValueError("an object reference needs a name or labels")
        return self


Op = Literal["exists", "notExists", "equals", "notEquals", "contains", "notContains", "in", "notIn"]


class FieldPredicate(_Model):
    """A test on the values at `path` (dotted; `[*]` for every item, `[type=Ready]` to pick one).

    `contains`/`notContains` look for `value` as a substring of any value found (lists are joined
    by spaces, so a container `command` list works); `equals` compares the string form.
    """

    path: Annotated[str, AfterValidator(check_path)]
    op: Op = "equals"
    value: Any = None

    @model_validator(mode="after")
    def _value_when_needed(self) -> FieldPredicate:
        if self.op not in ("exists", "notExists") and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        return self


class ObjectState(_Model):
    """A test on another object of the world: it exists and satisfies `where` (or `ready`)."""

    ref: ObjectRef
    where: list[FieldPredicate] = Field(default_factory=list)
    ready: bool | None = None
    negate: bool = Field(default=False, alias="not")


class Match(_Model):
    """Which objects a stage or handler applies to (kwok-style: kind, labels, field predicates)."""

    kind: str
    api_version: str | None = Field(default=None, alias="apiVersion")
    namespace: str | None = None
    name: str | None = None
    name_pattern: Regex | None = Field(default=None, alias="namePattern")
    labels: dict[str, str] = Field(default_factory=dict)
    where: list[FieldPredicate] = Field(default_factory=list)
    world: list[ObjectState] = Field(default_factory=list)


class EventSpec(_Model):
    """A Kubernetes Event to emit on the object."""

    reason: str
    message: str
    type: Literal["Normal", "Warning"] = "Normal"
    source: str = "kubelet"
    count: int = 1


class LogSpec(_Model):
    """Text for a container log (pods/log)."""

    container: str | None = None
    text: str
    append: bool = False


class ContainerOutcome(_Model):
    """What a matched pod's containers do instead of becoming Ready."""

    container: str | None = None
    state: Literal["waiting", "terminated", "running"] = "waiting"
    reason: str
    message: str = ""
    exit_code: int = Field(default=1, alias="exitCode")
    restart_count: int = Field(default=0, alias="restartCount")
    last_exit_code: int | None = Field(default=None, alias="lastExitCode")
    phase: Literal["Pending", "Running", "Succeeded", "Failed"] | None = None


class StageEffect(_Model):
    """What happens when a stage fires."""

    status: dict[str, Any] | None = None
    patch: dict[str, Any] | None = None
    containers: ContainerOutcome | None = None
    event: EventSpec | None = None
    events: list[EventSpec] = Field(default_factory=list)
    log: LogSpec | None = None
    delete: bool = False
    restart: bool = False
    # Hold the pod (after any outcome above) and re-check the match every `delay`; once it no
    # longer matches the kubelet starts the pod. Models "waits for Postgres" init containers.
    wait: bool = False
    # Apply this effect to other objects than the matched one (e.g. the owning HelmRelease).
    target: ObjectRef | None = None
    # Crash loops: re-apply to a held pod while it still matches, first after `every`, then with
    # kubelet's doubling back-off (capped at 5m), one more restart each time.
    every: Duration | None = None


class Stage(_Model):
    """A reactive rule: objects matching `match` get `then` after `delay` of virtual time.

    For pods, a stage with a `containers` outcome holds the pod: the kubelet pulls its images and
    then hands over to the stage instead of starting the containers.
    """

    name: str
    match: Match
    delay: Duration = 0.0
    then: StageEffect
    once: bool = True


class FaultSpec(_Model):
    """Misbehaviour of the fake API from this instant (see `simulator.api.faults.FaultPlan`)."""

    path: Regex = ".*"
    verbs: list[str] | None = None
    status: int = Field(default=0, ge=0, le=599)
    latency_seconds: float = Field(default=0.0, ge=0, le=600, alias="latencySeconds")
    count: int | None = Field(default=None, ge=1)
    for_: Duration | None = Field(default=None, alias="for")
    message: str = ""
    retry_after_seconds: int | None = Field(default=None, alias="retryAfterSeconds")
    drop_watches: bool = Field(default=False, alias="dropWatches")


Verb = Literal["apply", "patch", "delete", "event", "log", "fault", "note", "nodeUp"]
# The fields of `Action` each verb needs; what the verb does is `simulator.world.actions.ACTIONS`.
VERB_FIELDS: dict[Verb, tuple[str, ...]] = {
    "apply": ("object",),
    "patch": ("target", "patch"),
    "delete": ("target",),
    "event": ("target", "event"),
    "log": ("target", "log"),
    "fault": ("fault",),
    "note": ("note",),
    "nodeUp": (),
}


class Action(_Model):
    """A scripted action at a virtual time (`at`, from the scenario start)."""

    at: Duration
    action: Verb
    by: str | None = None
    note: str | None = None
    object: dict[str, Any] | None = None
    target: ObjectRef | None = None
    patch: dict[str, Any] | None = None
    subresource: Literal["status"] | None = None
    event: EventSpec | None = None
    log: LogSpec | None = None
    fault: FaultSpec | None = None

    @model_validator(mode="after")
    def _fields_for_verb(self) -> Action:
        missing = [name for name in VERB_FIELDS[self.action] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"action {self.action!r} needs {', '.join(missing)}")
        return self


class ExecHandler(_Model):
    """Answers `kubectl exec` whose command (joined by spaces) matches `command` (a regex)."""

    command: Regex
    pod: Match | None = None
    stdout: str = ""
    stderr: str = ""
    exit_code: int = Field(default=0, alias="exitCode")
    when: list[ObjectState] = Field(default_factory=list)
    otherwise: ExecHandler | None = None


class BootstrapRun(_Model):
    """One bootstrapper invocation: argv template with `{node_ip}`, `{kubeconfig}` ... fields."""

    argv: list[str]
    expect_exit: int | None = Field(default=0, alias="expectExit")
    env: dict[str, str] = Field(default_factory=dict)


class BootstrapPlan(_Model):
    """What `--bootstrap` runs and where the bootstrapper keeps its site files."""

    runs: list[BootstrapRun] = Field(default_factory=list)
    site_id: str = Field(default="appliance-single-node", alias="siteId")
    skip_actors: list[str] = Field(default_factory=lambda: ["bootstrapper"], alias="skipActors")
    # The fixed speed for a clock that cannot jump (a real control plane: at most 30x); on the fake
    # API `--bootstrap` is warped unless `--speed` asks otherwise. Real processes spend wall time
    # on start-up and polling: at 600x one wall second would be ten virtual minutes.
    speed: float = Field(default=60.0, gt=0)


class Scenario(_Model):
    """A whole scenario file."""

    name: str
    description: str = ""
    start: datetime = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)
    speed: float = Field(default=600.0, gt=0, le=100_000)
    duration: Duration | None = None
    host: HostSpec | None = None
    registry: RegistryContents | None = None
    app: AppSpec = Field(default_factory=AppSpec)
    objects: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_OBJECTS)
    events: list[Action] = Field(default_factory=list, max_length=MAX_ACTIONS)
    stages: list[Stage] = Field(default_factory=list)
    exec_handlers: list[ExecHandler] = Field(default_factory=list, alias="execHandlers")
    bootstrap: BootstrapPlan = Field(default_factory=BootstrapPlan)
    # False for recordings (`appliance-sim record`): the world replays the objects and actions
    # verbatim; its controllers, kubelet, stages, Flux model and Node add nothing of their own.
    reactive: bool = True

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-06-20T14:00:00Z")
        if not 1970 <= value.year <= 9000:
            raise ValueError("start must be between the years 1970 and 9000")
        return value

    @field_validator("objects")
    @classmethod
    def _manifests(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, obj in enumerate(value):
            for key in ("apiVersion", "kind"):
                if not isinstance(obj.get(key), str):
                    raise ValueError(f"object {index} has no {key}")
            meta = obj.get("metadata")
            if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
                raise ValueError(f"object {index} has no metadata.name")
        return value

    @property
    def end(self) -> float:
        """Virtual seconds the scripted timeline lasts (its last action, or `duration`)."""
        last = max((action.at for action in self.events), default=0.0)
        return self.duration if self.duration is not None else last


def parse_scenario(text: str, *, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; errors name `source`:line, the field and the reason."""
    try:
        document = load_located(text, source=source)
    except YamlSyntaxError as exc:
        raise ScenarioError(str(exc)) from None
    if not isinstance(document.data, dict):
        raise ScenarioError(f"{source}:1: a scenario is a mapping with at least `name`")
    problems: list[tuple[tuple[str | int, ...], str]] = []
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as exc:
        problems = [
            (tuple(error["loc"]), error["msg"].removeprefix("Value error, "))
            for error in exc.errors()
        ]
    problems.extend(workload_problems(document.data))
    if problems:
        messages = [
            f"{source}:{document.line_of(loc)}: {_dotted(loc) or '(top level)'}: {reason}"
            for loc, reason in problems[:_SHOWN_ERRORS]
        ]
        if len(problems) > _SHOWN_ERRORS:
            messages.append(f"{source}: and {len(problems) - _SHOWN_ERRORS} more problems")
        raise ScenarioError("\n".join(messages))
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (a regular UTF-8 file within the size limit)."""
    file = Path(path)
    try:
        text = read_scenario_text(file)
    except ScenarioFileError as exc:
        raise ScenarioError(f"{file}:{exc.line}: (file): {exc.reason}") from None
    return parse_scenario(text, source=str(file))


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")):
            continue
        elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out
