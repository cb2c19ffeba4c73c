"""`portplan ports` and `portplan who` as functions: options in, text and exit code out.

Their click commands (portplan.cli.ports, portplan.cli.who) and the click-free console
script (portplan._entry) both call these, so the two paths cannot drift apart.
"""

from __future__ import annotations

from portplan.live import view
from portplan.live.declared import DeclaredIndex, optional_plan
from portplan.live.sockets import listeners

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def ports(
    *, as_json: bool = False, udp: bool = False, all_addresses: bool = False, file: str | None
) -> tuple[str, int]:
    """Every listening socket (TCP, and UDP when asked) with its owner and service."""
    index = DeclaredIndex(optional_plan(file))
    found = listeners(("tcp", "udp") if udp else ("tcp",))
    if as_json:
        return view.ports_json(found, index), 0
    return view.ports_text(found, index, all_addresses=all_addresses), 0


def who(numbers: Sequence[int], *, as_json: bool = False, file: str | None) -> tuple[str, int]:
    """Who holds each port number; exit 1 when some port is free."""
    index = DeclaredIndex(optional_plan(file))
    wanted = set(numbers)
    found = listeners(("tcp", "udp"), ports=wanted)
    render_who = view.who_json if as_json else view.who_text
    text = render_who(numbers, found, index)
    return text, 0 if wanted <= {li.port for li in found} else 1
