"""Click types of the command-line values portplan reads strictly (see portplan.portnumber)."""

from __future__ import annotations

from typing import Any

import click

from portplan.portnumber import MAX_GRACE, PORT_RULE, grace_seconds, port_number


class PortType(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.3 on
    """A port number 1-65535 in ASCII digits: no sign, space, underscore or leading zero."""

    name = "port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
            return value
        number = port_number(value) if isinstance(value, str) else None
        if number is None:
            self.fail(f"{click.style(repr(value))} is not a port: {PORT_RULE}", param, ctx)
        return number


class GraceType(click.ParamType):  # type: ignore[type-arg]
    """Seconds, finite and from 0 to an hour (`nan` and `inf` would never escalate)."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = float("nan")
        if isinstance(value, str) and not value.strip().replace(".", "", 1).isdigit():
            seconds = float("nan")
        checked = grace_seconds(seconds)
        if checked is None:
            self.fail(f"expected a number of seconds from 0 to {MAX_GRACE:g}", param, ctx)
        return checked


PORT = PortType()
GRACE = GraceType()
