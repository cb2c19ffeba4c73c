"""The short cuts `portplan ports` takes for speed give what the long ways give.

JSON written without the json package (portplan.live.jsontext) against json's own; a
listing of a thousand sockets (several netlink buffers) from netlink against
/proc/net, and from /proc/net when netlink is refused; the console script, which ends
the process at once after `ports` and `who`, against the same listing made in-process;
and the modules a listing imports. The sockets are listed in a network namespace of
their own (`unshare -rn`), where only the test's sockets listen.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from typing import Any

import pytest

from portplan.live import jsontext
from portplan.live.jsontext import encode
from portplan.live.owners import Access

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**80,
    0.1,
    -0.0,
    1e300,
    1796657506.34,
    math.inf,
    -math.inf,
    "",
    "plain",
    'quote " and back\\slash',
    "tab\t newline\n bell\x07 nul\x00 del\x7f",
    "naïve ☃ 𝄞 \u2028",
    Access.KNOWN,
    [],
    [1, "a", None, [2.5, {"k": ()}]],
    (3, "t"),
    {},
    {"pid": 4, "pids": [4, 5], "cmdline": ["python3", "-c", "x"], "started": None},
    {1: "int key", 2.5: "float key", math.inf: "inf key", "é": "str key"},
    {True: "true key", False: "false key", None: "none key"},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_encode_writes_what_json_writes(value: Any) -> None:
    assert encode(value) == json.JSONEncoder(ensure_ascii=False).encode(value)


def test_nan_is_written_as_json_writes_it() -> None:
    assert encode([math.nan]) == json.dumps([math.nan]) == "[NaN]"


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), {(1, 2): "tuple key"}])
def test_what_json_refuses_is_refused(value: Any) -> None:
    with pytest.raises(TypeError) as theirs:
        json.JSONEncoder(ensure_ascii=False).encode(value)
    with pytest.raises(TypeError) as ours:
        encode(value)
    assert str(ours.value) == str(theirs.value)


def test_a_circular_reference_is_refused_and_forgotten() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference detected"):
        encode(looped)
    shared = [2]
    assert encode([shared, shared, {"again": shared}]) == '[[2], [2], {"again": [2]}]'


def test_without_the_accelerator_json_itself_encodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsontext, "_json", None)
    assert encode({"a": [1, 2.5, None]}) == '{"a": [1, 2.5, null]}'
    assert encode("é\n") == '"é\\n"'


TEXTS: list[bytes | str] = [
    b'{"status": "ok"}',
    b" \t\r\n[1, -2.5e3, 2e400, NaN, -Infinity, Infinity, true, false, null] \n",
    b'{"nested": {"list": [{}, []], "s": "\\u00e9\\ud834\\udd1e \\" \\n"}}',
    '"caf\u00e9" ',
    "{}".encode("utf-16"),
    "[1]".encode("utf-16-le"),
    "[1]".encode("utf-32"),
    b"\xef\xbb\xbf[2]",
    b'"\xc3\xa9"',
    b"12",
    b'{"a": 1, "a": 2}',
]
NOT_JSON: list[bytes | str] = [
    b"",
    b"  ",
    b'{"a": 1} trailing',
    b'{"a":',
    b"1 2",
    b'"tab\there"',  # a control character in a string (strict)
    b"[01]",
    b"nan",
    b'"\xe9"',  # not UTF-8
    "\ufeff{}",
    b"\xff\xfe",
    b"<html>",
]


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_decode_reads_what_json_reads(text: bytes | str) -> None:
    ours, theirs = jsontext.decode(text), json.loads(text)
    assert repr(ours) == repr(theirs)  # nan compares unequal to itself; its repr does not


@pytest.mark.parametrize("text", NOT_JSON, ids=repr)
def test_decode_refuses_what_json_refuses(text: bytes | str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        jsontext.decode(text)


def test_without_the_accelerator_json_itself_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsontext, "_json", None)
    assert jsontext.decode(b' {"a": [1, 2.5, null]} ') == {"a": [1, 2.5, None]}


def test_a_checking_process_imports_neither_json_re_nor_dataclasses() -> None:
    """What a forked `status` checking process imports to run HTTP and TCP checks and read
    JSON answers, before anything else: no json, re, enum, dataclasses or typing."""
    code = (
        "import sys\n"
        "from portplan.live import early, probing, probe_local, probe_loop, sockets\n"
        "from portplan.live.jsontext import decode\n"
        "assert decode(b'{\"status\": \"ok\"}') == {'status': 'ok'}\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    found = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
    imported = set(found.stdout.split())
    assert "portplan.live.probe_loop" in imported and "portplan.live.early" in imported
    heavy = {"re", "json", "enum", "dataclasses", "inspect", "typing", "socket", "selectors"}
    assert imported & heavy == set()


# ---------------------------------------------------------------------------
# In a network namespace of the test's own


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


needs_unshare = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -rn` (user and network namespaces)"
)

# Run in the namespace: bring loopback up, listen on a few ports on both 0.0.0.0 and ::,
# then on argv[1] IPv4 and argv[2] IPv6 ports, then answer what the test asks.
LISTEN = """
import json, os, socket, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=False, capture_output=True)
held = []
def listen(family, address, port=0):
    s = socket.socket(family)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, port))
    s.listen(4)
    held.append(s)
    return s.getsockname()[1]
for _ in range(5):  # first: a port the kernel picks later cannot clash with these
    listen(socket.AF_INET6, "::", listen(socket.AF_INET, "0.0.0.0"))
for _ in range(int(sys.argv[1])):
    listen(socket.AF_INET, "127.0.0.1")
for _ in range(int(sys.argv[2])):
    listen(socket.AF_INET6, "::1")
"""

READERS = """
from portplan.live import sockets
netlink = sockets.read_netlink(("tcp",))
procnet = sockets.read_procnet(("tcp",))
def refused(protocols):
    raise PermissionError(1, "netlink refused")
sockets.read_netlink = refused
fallback = sockets.READERS["netlink"](("tcp",))
print(json.dumps([sorted(s.fields() for s in found) for found in (netlink, procnet, fallback)]))
"""

# the console script's code path (argv from sys.argv: it ends the process at once) and the
# same listing made in-process (it returns); standard output is a pipe, the listing longer
# than the pipe holds
SCRIPT = """
import io, contextlib
from portplan._entry import main
answers = []
for args in (["ports"], ["ports", "--json"], ["who", "1"]):
    run = ("import sys; from portplan._entry import main; sys.argv[0] = 'portplan'; "
           "sys.exit(main())")
    done = subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True)
    inside = io.StringIO()
    with contextlib.redirect_stdout(inside):
        code = main(args)
    answers.append([done.returncode, done.stdout, done.stderr, code, inside.getvalue()])
print(json.dumps(answers))
"""

# the modules a listing imports (nothing in this namespace's command lines asks for the
# secret masking, which brings `re`)
IMPORTS = """
fresh = (
    "import sys, io\\n"
    "before = set(sys.modules)\\n"
    "from portplan._entry import main\\n"
    "out, sys.stdout = sys.stdout, io.StringIO()\\n"
    "main(['ports']), main(['ports', '--json'])\\n"
    "out.write(' '.join(sorted(set(sys.modules) - before)))\\n"
)
done = subprocess.run([sys.executable, "-c", fresh], capture_output=True, text=True, check=True)
print(json.dumps(done.stdout.split()))
"""


def _in_namespace(v4: int, v6: int, script: str) -> Any:
    command = ["unshare", "-rn", sys.executable, "-c", LISTEN + script, str(v4), str(v6)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_unshare
def test_netlink_and_proc_net_agree_on_a_thousand_sockets() -> None:
    netlink, procnet, fallback = _in_namespace(700, 300, READERS)
    assert len(netlink) == 1010  # more than one netlink buffer holds
    assert netlink == procnet == fallback
    addresses = {row[1] for row in netlink}
    assert addresses == {"127.0.0.1", "::1", "0.0.0.0", "::"}
    assert {row[0] for row in netlink} == {"tcp"} and all(row[3] for row in netlink)


@needs_unshare
def test_the_console_script_writes_what_the_listing_returns() -> None:
    (ports, as_json, who) = _in_namespace(400, 100, SCRIPT)
    for code, out, err, inside_code, inside_out in (ports, as_json, who):
        assert (code, err) == (inside_code, "")
        assert out == inside_out
    assert ports[0] == 0 and len(ports[1]) > 65536  # more than a pipe holds
    listed = json.loads(as_json[1])
    assert listed["summary"] == {"listeners": 510, "tcp": 510, "udp": 0}
    # one row per port (one owner: its addresses on a port fold into one row)
    assert len(ports[1].splitlines()) == 1 + len({li["port"] for li in listed["listeners"]})
    assert who[0] == 1 and "(nothing listens)" in who[1]


@needs_unshare
def test_a_listing_imports_neither_re_json_collections_nor_struct() -> None:
    imported = set(_in_namespace(50, 10, IMPORTS))
    assert "portplan.live.sockets" in imported and "portplan.live.jsontext" in imported
    heavy = {"re", "json", "enum", "collections", "operator", "struct", "_struct", "typing"}
    heavy |= {"click", "socket"}
    assert imported & heavy == set()
