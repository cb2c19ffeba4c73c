"""A service's `run:` section (merged over `defaults.run`) as a `RunSpec` record.

The shapes were checked by the schema (portplan.schema.RUN); what is left is the meaning:
a command must come from somewhere, one readiness check at a time, and `wait_for` may only
name the service's own dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from portplan.errors import InputError
from portplan.model import (
    EnvVar,
    Location,
    Port,
    Readiness,
    RestartPolicy,
    RunSpec,
    StopPolicy,
)
from portplan.plan import schema
from portplan.yamlio.load import Mark, YMap

Locate = Callable[[Mark | None], Location]
_READY_KEYS = ("health", "tcp", "exec", "log")


def run_spec(
    doc: Mapping[str, Any],
    defaults: Mapping[str, Any] | None,
    locate: Locate,
    depends_on: tuple[str, ...],
    path: str = "run",
) -> RunSpec | None:
    """The service's run spec, or None when it has no `run:` and no default command."""
    own = doc.get("run")
    if own is None and not (defaults and "command" in defaults):
        return None
    own = own or {}
    where = locate(_mark(doc, "run"))
    merged = _merged(defaults or {}, own)
    if "command" not in merged:
        raise _error(
            where,
            f"{path}: expected a mapping with the key 'command' (here or in "
            "defaults.run), got a mapping without it",
        )
    return RunSpec(
        command=_command(merged["command"]),
        cwd=merged.get("cwd"),
        env=_env(merged.get("env"), locate),
        ready=_ready(merged.get("ready"), locate(_mark(own, "ready")) if own else where, path),
        restart=_restart(merged.get("restart")),
        stop=_stop(merged.get("stop")),
        wait_for=_wait_for(own.get("wait_for") or {}, depends_on, locate, path),
        location=where,
    )


def _merged(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The service's keys over the defaults'; `env` merges variable by variable."""
    merged = {**defaults, **own}
    if isinstance(defaults.get("env"), dict) and isinstance(own.get("env"), dict):
        env = YMap({**defaults["env"], **own["env"]})
        env.mark = Mark(0, 0)
        env.key_marks = {**getattr(defaults["env"], "key_marks", {}), **own["env"].key_marks}
        env.value_marks = {
            **getattr(defaults["env"], "value_marks", {}),
            **getattr(own["env"], "value_marks", {}),
        }
        merged["env"] = env
    return merged


def _mark(doc: object, key: str) -> Mark | None:
    return doc.value_marks.get(key) if isinstance(doc, YMap) else None


def _error(location: Location, text: str) -> InputError:
    return InputError(location.file, location.line or None, location.column or None, text)


def _command(value: object) -> tuple[str, ...] | str:
    return tuple(str(v) for v in value) if isinstance(value, list) else str(value)


def _env(value: object, locate: Locate) -> tuple[EnvVar, ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(
        EnvVar(name, _scalar(item), locate(_mark(value, name))) for name, item in value.items()
    )


def _scalar(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _ready(value: object, where: Location, path: str) -> Readiness:
    if value is None:
        return Readiness()
    if isinstance(value, str):
        return Readiness(kind=value.lower())
    assert isinstance(value, dict)
    chosen = [key for key in _READY_KEYS if key in value and value[key] is not False]
    if len(chosen) > 1:
        raise _error(
            where, f"{path}.ready: choose one of health, tcp, exec, log; got {', '.join(chosen)}"
        )
    kind = chosen[0] if chosen else "auto"
    return Readiness(
        kind=kind,
        command=_command(value["exec"]) if kind == "exec" else None,
        pattern=str(value["log"]) if kind == "log" else None,
        timeout_ms=schema.parse_duration_ms(value.get("timeout", 60000.0)),
        interval_ms=schema.parse_duration_ms(value.get("interval", 100.0)),
    )


def _restart(value: object) -> RestartPolicy:
    if value is None:
        return RestartPolicy()
    if isinstance(value, str):
        if value == "with-dependency":
            return RestartPolicy(policy="on-failure", with_dependency=True)
        return RestartPolicy(policy=value)
    assert isinstance(value, dict)
    return RestartPolicy(
        policy=str(value.get("policy", "on-failure")),
        with_dependency=bool(value.get("with_dependency", False)),
        backoff_ms=schema.parse_duration_ms(value.get("backoff", 500.0)),
        max_restarts=int(value.get("max", 5)),
    )


def _stop(value: object) -> StopPolicy:
    if not isinstance(value, dict):
        return StopPolicy()
    return StopPolicy(
        signal=schema.parse_signal(value.get("signal", "SIGTERM")),
        grace_ms=schema.parse_duration_ms(value.get("grace", 10000.0)),
    )


def _wait_for(
    value: Mapping[str, Any], depends_on: tuple[str, ...], locate: Locate, path: str
) -> dict[str, str]:
    for name in value:
        if name not in depends_on:
            import difflib  # for a message only

            near = difflib.get_close_matches(name, list(depends_on), n=1, cutoff=0.6)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            marks = value.key_marks if isinstance(value, YMap) else {}
            known = ", ".join(depends_on) or "none"
            raise _error(
                locate(marks.get(name)),
                f"{path}.wait_for: '{name}' is not a dependency of this service{hint}; "
                f"depends_on: {known}",
            )
    return {name: str(condition).lower() for name, condition in value.items()}


def check_listen(
    service: str, ports_doc: object, ports: tuple[Port, ...], run: RunSpec | None, locate: Locate
) -> None:
    """`listen: inherit` needs a TCP or UDP port (a socket `up` can bind and pass) of a
    service `up` starts (one with a run spec)."""
    for port in ports:
        if port.listen != "inherit":
            continue
        doc = ports_doc.get(port.name) if isinstance(ports_doc, YMap) else None
        where = locate(_mark(doc, "listen"))
        path = f"services.{service}.ports.{port.name}.listen"
        if port.protocol not in ("tcp", "udp"):
            raise _error(where, f"{path}: inherit needs a tcp or udp port, got {port.protocol}")
        if run is None:
            raise _error(
                where,
                f"{path}: inherit needs a run: section (portplan up binds the port for the "
                "process it starts)",
            )
