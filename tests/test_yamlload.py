"""portplan.yamlio.load: located trees, the core schema, every refusal, and fast == complete."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portplan.yamlio import events
from portplan.yamlio import fast as fast_parser
from portplan.yamlio.load import Mark, YAMLInputError, YMap, YSeq, load, load_all, load_file
from portplan.yamlio.redact import redact
from portplan.yamlio.tree import item_mark, key_mark, value_mark

RESOURCES = Path(__file__).parent / "resources" / "yaml"


# --- bad input: one case per problem, exact one-line messages --------------------------

BAD_FILES = [
    ("binary.png", "3:1: is a binary file, not YAML (NUL byte)"),
    ("latin1.yaml", "2:6: cannot decode the text here: expected UTF-8"),
    ("control_char.yaml", "3:18: found a control character, which YAML does not allow"),
    (
        "tabs.yaml",
        "3:1: found a tab character where indentation is expected; YAML indents with spaces",
    ),
    (
        "unclosed_quote.yaml",
        '3:14: unclosed quoted string: no closing " before the end of the file',
    ),
    (
        "bad_indent.yaml",
        "4:4: bad indentation or stray text: expected a key aligned with the mapping at line 2, column 3",
    ),
    ("unclosed_flow.yaml", "4:5: expected ',' or '}' in the mapping opened at line 3, column 12"),
    (
        "colon_in_value.yaml",
        "2:29: unexpected ':' (a plain value cannot contain ': '; quote it, "
        "or check the indentation)",
    ),
    ("duplicate_key.yaml", "6:3: duplicate key 'web' (first at line 2)"),
    ("complex_key.yaml", "4:9: a mapping key must be a scalar, found a list"),
    (
        "unknown_alias.yaml",
        "3:9: unknown alias: no anchor of that name is defined before it "
        "(a value starting with '*' must be quoted)",
    ),
    (
        "bad_merge.yaml",
        "4:9: merge key '<<' expects a mapping or a list of mappings, got a string of 14 characters",
    ),
    (
        "bad_tag.yaml",
        "3:19: expected an integer for tag !!int, got a string of 6 characters",
    ),
    (
        "billion_laughs.yaml",
        "6:8: this alias makes the document expand past 100,000 nodes; "
        "refusing a possible alias bomb",
    ),
    ("deep.yaml", "65:129: nesting is deeper than 64 levels"),
    ("deep_flow.yaml", "1:67: nesting is deeper than 64 levels"),
    # libyaml reads this one (a directive), and some releases stop at their own depth limit
    # first: the limit and its words are portplan's whichever release is installed.
    ("deep_flow_handed_over.yaml", "6:77: nesting is deeper than 64 levels"),
    ("two_documents.yaml", "2:1: expected a single YAML document, found another document here"),
]


@pytest.mark.parametrize(("name", "expected"), BAD_FILES, ids=[name for name, _ in BAD_FILES])
def test_bad_file_is_one_located_line(name: str, expected: str) -> None:
    path = RESOURCES / name
    with pytest.raises(YAMLInputError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}:{expected}"
    assert "\n" not in str(caught.value)
    assert caught.value.file == str(path)


BAD_TEXTS = [
    (
        "a: 1\n  b: 2\n",
        "f.yaml:2:4: unexpected ':' (a plain value cannot contain ': '; "
        "quote it, or check the indentation)",
    ),
    (
        "- a\nb: 1\n",
        "f.yaml:2:1: bad indentation or stray text: expected a '- ' item aligned with the list "
        "at line 1, column 1",
    ),
    ("a: [1, 2\n", "f.yaml:2:1: expected ',' or ']' in the list opened at line 1, column 4"),
    ("a: @x\n", "f.yaml:1:4: a plain value cannot start with @ ` % | or > here: quote the value"),
    ("a: [|x]\n", "f.yaml:1:5: a plain value cannot start with @ ` % | or > here: quote the value"),
    (
        'a: "x\\qy"\n',
        "f.yaml:1:6: unknown escape in a double-quoted string: write '\\\\' "
        "for a backslash, or use '...'",
    ),
    ("{a: 1}: 2\n", "f.yaml:1:1: a mapping key must be a scalar, found a mapping"),
    ("a: 1\na: 2\n", "f.yaml:2:1: duplicate key 'a' (first at line 1)"),
    ("80: a\n'80': b\n", "f.yaml:2:1: duplicate key '80' (first at line 1)"),
    (
        "a: !!float x\n",
        "f.yaml:1:4: expected a number for tag !!float, got a string of 1 character",
    ),
    ("a: !!int 1.5\n", "f.yaml:1:4: expected an integer for tag !!int, got a decimal number"),
    ("a: !!int true\n", "f.yaml:1:4: expected an integer for tag !!int, got a boolean"),
    (
        "a: !!bool yes\n",
        "f.yaml:1:4: expected a boolean for tag !!bool, got a string of 3 characters",
    ),
    (
        "a: &x [*x]\n",
        "f.yaml:1:8: unknown alias: no anchor of that name is defined before it "
        "(a value starting with '*' must be quoted)",
    ),
    ("a: 1\n---\n", "f.yaml:2:1: expected a single YAML document, found another document here"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_TEXTS)
def test_bad_text_is_one_located_line(text: str, expected: str) -> None:
    with pytest.raises(YAMLInputError) as caught:
        load(text, "f.yaml")
    assert str(caught.value) == expected


def test_missing_file() -> None:
    path = RESOURCES / "no-such.yaml"
    with pytest.raises(YAMLInputError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}: no such file"


def test_nul_in_text_is_binary() -> None:
    with pytest.raises(YAMLInputError) as caught:
        load("a: 1\nb: x\0y\n", "f.yaml")
    assert str(caught.value) == "f.yaml:2:5: is a binary file, not YAML (NUL character)"


# --- encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bom.yaml", "utf16.yaml"])
def test_byte_order_marks_are_accepted(name: str) -> None:
    tree = load_file(RESOURCES / name)
    assert tree == {"services": {"web": {"ports": {"http": 8080}}}}
    assert tree.mark == Mark(1, 1)
    assert tree["services"]["web"]["ports"].value_marks["http"] == Mark(3, 19)


def test_crlf_keeps_lines_and_columns() -> None:
    tree = load(b"a: 1\r\nb:\r\n  - x\r\n", "f.yaml")
    assert tree == {"a": 1, "b": ["x"]}
    assert tree["b"].item_marks == [Mark(3, 5)]


# --- the located tree -----------------------------------------------------------------

TOPOLOGY = """\
system: deltran   # a comment
services:
  gateway:
    purpose: primary entry point
    ports:
      http: {port: 8080, env: GATEWAY_PORT, health: {path: /health}}
    depends_on: [token-engine, 'settlement engine']
  token-engine:
    ports:
      http: 8081
      grpc: {port: 50051,
             env: GRPC_PORT}
    depends_on:
      - postgres
      - redis
"""


def test_marks_of_keys_values_and_items() -> None:
    tree = load(TOPOLOGY, "portplan.yaml")
    assert isinstance(tree, YMap)
    assert tree.mark == Mark(1, 1)
    assert tree.key_marks["services"] == Mark(2, 1)
    assert tree.value_marks["system"] == Mark(1, 9)
    services = tree["services"]
    assert services.mark == Mark(3, 3)
    assert tree.value_marks["services"] == Mark(3, 3)
    gateway_ports = services["gateway"]["ports"]
    assert gateway_ports.value_marks["http"] == Mark(6, 13)
    http = gateway_ports["http"]
    assert http == {"port": 8080, "env": "GATEWAY_PORT", "health": {"path": "/health"}}
    assert http.key_marks["env"] == Mark(6, 26)
    assert http.value_marks["port"] == Mark(6, 20)
    assert http["health"].mark == Mark(6, 53)
    depends = services["gateway"]["depends_on"]
    assert isinstance(depends, YSeq)
    assert depends == ["token-engine", "settlement engine"]
    assert depends.item_marks == [Mark(7, 18), Mark(7, 32)]
    grpc = services["token-engine"]["ports"]["grpc"]
    assert grpc.value_marks["env"] == Mark(12, 19)
    engine_depends = services["token-engine"]["depends_on"]
    assert engine_depends.mark == Mark(14, 7)
    assert engine_depends.item_marks == [Mark(14, 9), Mark(15, 9)]


def test_empty_values_point_after_their_colon_or_dash() -> None:
    tree = load("a:\nb:   # none\nc:\n  -\n  - x\n", "f.yaml")
    assert tree == {"a": None, "b": None, "c": [None, "x"]}
    assert tree.value_marks["a"] == Mark(1, 3)
    assert tree.value_marks["b"] == Mark(2, 3)
    assert tree["c"].item_marks == [Mark(4, 4), Mark(5, 5)]


COMPOSE = """\
x-defaults: &defaults
  restart: always
  environment: &env {LOG: info}
x-ports: &ports
  ports: ["8080:80"]
services:
  web:
    <<: [*defaults, *ports]
    restart: "no"
  worker:
    <<: *defaults
    environment: *env
"""


def test_anchors_aliases_and_merge_keys() -> None:
    tree = load(COMPOSE, "compose.yaml")
    web = tree["services"]["web"]
    assert web == {"restart": "no", "environment": {"LOG": "info"}, "ports": ["8080:80"]}
    assert web.key_marks["restart"] == Mark(9, 5)  # its own key wins over the merged one
    assert web.key_marks["environment"] == Mark(3, 3)  # merged keys keep their own place
    worker = tree["services"]["worker"]
    assert worker == {"environment": {"LOG": "info"}, "restart": "always"}
    assert worker["environment"] is tree["x-defaults"]["environment"]  # shared, not copied
    assert worker.value_marks["environment"] == Mark(12, 18)  # where the alias is
    assert worker["environment"].mark == Mark(3, 16)  # where the anchored node is
    assert "<<" not in worker


def test_load_all_reads_every_document() -> None:
    text = "---\nkind: Service\n---\n# empty\n---\nkind: Deployment\n"
    documents = load_all(text, "k8s.yaml")
    assert documents == [{"kind": "Service"}, None, {"kind": "Deployment"}]
    assert documents[2].mark == Mark(6, 1)
    assert load_all("", "k8s.yaml") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("# only a comment\n", None), ("---\n", None), ("[1, 2]", [1, 2]), ("42\n", 42)],
)
def test_documents_of_every_shape(text: str, expected: Any) -> None:
    assert load(text, "f.yaml") == expected


def test_kubernetes_manifest_with_block_scalars() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  run.sh: |\n    echo hi\n"
        '  port: "8080"\n---\nkind: Service\nspec:\n  ports:\n  - port: 80\n'
        "    targetPort: 8080\n"
    )
    config_map, service = load_all(text.encode(), "k8s.yaml")
    assert config_map["data"] == {"run.sh": "echo hi\n", "port": "8080"}
    assert config_map["data"].value_marks["port"] == Mark(6, 9)
    ports = service["spec"]["ports"]
    assert ports == [{"port": 80, "targetPort": 8080}]
    assert ports.item_marks == [Mark(11, 5)]
    assert ports[0].key_marks["targetPort"] == Mark(12, 5)


def test_tabs_inside_values_are_text() -> None:
    assert load("a: b\tc\nd: [e,\tf]\n", "f.yaml") == {"a": "b\tc", "d": ["e", "f"]}


def test_import_stays_light() -> None:
    code = (
        "import sys; from portplan.yamlio.load import load; load('a: {b: [1]}', 'f'); "
        "assert 'yaml' not in sys.modules, 'the fast path imported PyYAML'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the YAML 1.2 core schema ---------------------------------------------------------

CORE_SCHEMA = [
    ("yes", "yes"),
    ("no", "no"),
    ("on", "on"),
    ("off", "off"),
    ("y", "y"),
    ("80:80", "80:80"),
    ("1:20", "1:20"),
    ("8080", 8080),
    ("-12", -12),
    ("+12", 12),
    ("012", 12),
    ("0o17", 15),
    ("0x1F", 31),
    ("0b101", "0b101"),
    ("1_000", "1_000"),
    ("1.5", 1.5),
    ("1e3", 1000.0),
    ("-.5", -0.5),
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("", None),
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("false", False),
    ("tRUE", "tRUE"),
    ("2024-01-01", "2024-01-01"),
    ("'8080'", "8080"),
    ('"true"', "true"),
    ("'it''s'", "it's"),
    ("!!str 8080", "8080"),
    ("!!float 1", 1.0),
    ("! 12", "12"),
]


@pytest.mark.parametrize(("scalar", "expected"), CORE_SCHEMA)
def test_core_schema(scalar: str, expected: Any) -> None:
    value = load(f"v: {scalar}\n", "f.yaml")["v"]
    assert value == expected
    assert type(value) is type(expected)


def test_nan_and_non_string_keys() -> None:
    tree = load("nan: .nan\n80: http\ntrue: t\n0x10: h\n~: n\n", "f.yaml")
    assert math.isnan(tree["nan"])
    assert list(tree) == ["nan", "80", "True", "16", "None"]


def test_huge_integer_stays_text() -> None:
    digits = "9" * 5000
    assert load(f"v: {digits}\n", "f.yaml")["v"] == digits


# --- the fast parser reads what the complete one reads, identically --------------------


def _dump(value: Any) -> Any:
    """A tree with every mark, for comparing the two parsers."""
    if isinstance(value, YMap):
        entries = [
            (key, value.key_marks[key], value.value_marks[key], _dump(item))
            for key, item in value.items()
        ]
        return ("map", value.mark, entries)
    if isinstance(value, YSeq):
        return (
            "seq",
            value.mark,
            [(mark, _dump(item)) for mark, item in zip(value.item_marks, value, strict=True)],
        )
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return (type(value).__name__, value)


def _complete(text: str, single: bool) -> Any:
    try:
        return [_dump(document) for document in events.parse_documents(text, "f", single)]
    except YAMLInputError as exc:
        return str(exc)


def _assert_same(text: str, single: bool = False) -> bool:
    """Whether the fast parser read `text`; fails if it read it differently."""
    fast = fast_parser.parse(text, "f", single)
    if fast is None:
        return False
    assert [_dump(document) for document in fast] == _complete(text, single), text
    return True


FAST_READS = [
    TOPOLOGY,
    COMPOSE,
    "a:\nb: &x\n  c: 1\nd: &y v\ne: *y\nf: &z\n- 1\ng:   # c\n  h: é\nék: éé x\n",
    "- a: 1\n  b:\n-\n- &a\n  m: 1\n- *a\n- &e\n- x\n",
    "a: # c\n  - 1\nb:\n- 2\n",
    "a: {b: [1, 2,\n  3], c: d}   # c\ne: [[], {}, [[x]]]\n",
    "  indented: 1\n  root: 2\n",
    "'q k': 1\n\"d k\": 2\nurl: http://h:80/p\nhash: a#b\ncolon: a:b\n",
    "--- # first\na: 1\n---\n- 2\n---\n",
    "x: &d {a: 1}\ny:\n  <<: *d\n  b: 2\n",
    "a: {80: x, true: y, k: 0x1F, p: /m}   # c\nb: [1, 2.5, null, /p, a-b, 9.9.9]\nc: [ x ,y ]\n",
    "- {a: 1, b: c d}\n- [a, b c]\n- {a: [1]}\n- [{a: 1}]\n- {a: 1,}\n- {a.b: -1, c: 1e3}\n",
]


@pytest.mark.parametrize("text", FAST_READS)
def test_fast_parser_reads_configuration_yaml(text: str) -> None:
    assert _assert_same(text)


HANDED_OVER = [
    "a: |\n  block\n",
    "a: !!str 1\n",
    'a: "esc\\n"\n',
    "a: b\n  continued\n",
    "- - nested\n",
    "? complex\n: key\n",
    "a: 1\na: 2\n",
    "a: [*x]\n",
    "a: {b: }\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n...\n",
    "a:\tb\n",
    "a: {k: 1, k: 2}\n",
]


def _dump_alone(value: Any) -> Any:
    """_dump through key_mark, value_mark and item_mark, before any whole table is made."""
    if isinstance(value, YMap):
        entries = [
            (key, key_mark(value, key), value_mark(value, key), _dump_alone(item))
            for key, item in value.items()
        ]
        return ("map", value.mark, entries)
    if isinstance(value, YSeq):
        items = [(item_mark(value, i), _dump_alone(item)) for i, item in enumerate(value)]
        assert item_mark(value, len(value)) is None and item_mark(value, -1) is None
        return ("seq", value.mark, items)
    return _dump(value)


@pytest.mark.parametrize("text", FAST_READS)
def test_one_mark_made_alone_is_the_one_of_the_whole_table(text: str) -> None:
    fast = fast_parser.parse(text, "f", False)
    assert fast is not None
    assert [_dump_alone(document) for document in fast] == _complete(text, False)
    for document in fast:  # no table was made: each mark was made alone
        if isinstance(document, YMap):
            assert document._key_marks is None and document._value_marks is None
    complete = events.parse_documents(text, "f", False)
    assert [_dump_alone(document) for document in complete] == _complete(text, False)


def test_a_table_of_marks_once_made_is_the_one_changed() -> None:
    tree = load("a: 1\nb: [x, y]\n", "f.yaml")
    assert key_mark(tree, "a") == Mark(1, 1) and value_mark(tree, "zz") is None
    tree.value_marks["a"] = Mark(9, 9)  # made whole, then changed (as an overlay does)
    assert value_mark(tree, "a") == Mark(9, 9)
    tree["b"].item_marks[0] = Mark(7, 7)
    assert item_mark(tree["b"], 0) == Mark(7, 7)


@pytest.mark.parametrize("text", HANDED_OVER)
def test_fast_parser_hands_over_the_rest(text: str) -> None:
    assert not _assert_same(text)


def test_fast_and_complete_parsers_agree_on_generated_yaml() -> None:
    read = 0
    for seed in range(1500):
        rnd = random.Random(seed)
        text = "\n".join(_generate_block(rnd, rnd.choice([0, 0, 2]), 0)) + "\n"
        if rnd.random() < 0.4:
            text = _mutate(rnd, text)
        read += _assert_same(text, single=rnd.random() < 0.5)
    assert read > 200  # the generator does exercise the fast parser


_ATOMS = [
    *("a", "key", "80", "80:80", "yes", "~", "null", "1.5", "0x1F", "0o17", "-1", "x y"),
    *("http://h:1/p", "a#b", "'q'", "'it''s'", '"dq"', '"a: b"', "''", '""', "[]", "{}"),
    *("[1, 2]", "{a: 1}", "{a: 1, b: [x, y]}", "[a, {b: c}]", "&A v", "*A", "&B {x: 1}"),
    *("*B", "# c", "x # c", "-x", ":x", "a: b", "[a,", "]", "'unclosed", "[a, b]  # c"),
    *("{a: 1,\n  b: 2}", "[1,\n 2]", "&C", "<<", "!!str 1", "|", '"\\n"'),
    *("[*A, x]", "{k: *B}", "[*B,*A]"),
]
_KEYS = ["a", "b", "c", "k1", "'q k'", '"d"', "80", "<<", "true", "x y", "a:b", "&K k", "- z"]


def _generate_block(rnd: random.Random, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    is_map = rnd.random() < 0.66
    for _ in range(rnd.randint(1, 4)):
        pad = " " * indent
        nested = depth < 3 and rnd.random() < 0.35
        if is_map and nested:
            lines.append(f"{pad}{rnd.choice(_KEYS)}:" + rnd.choice(["", " # c", " &N"]))
            lines += _generate_block(rnd, indent + rnd.choice([0, 1, 2, 2, 4]), depth + 1)
        elif is_map:
            lines.append(f"{pad}{rnd.choice(_KEYS)}: {rnd.choice(_ATOMS)}")
        elif nested and rnd.random() < 0.5:
            sub = _generate_block(rnd, indent + 2, depth + 1)
            lines += [pad + "- " + sub[0][indent + 2 :], *sub[1:]]
        elif nested:
            lines.append(f"{pad}-")
            lines += _generate_block(rnd, indent + rnd.choice([1, 2, 3]), depth + 1)
        else:
            lines.append(f"{pad}- {rnd.choice(_ATOMS)}")
        if rnd.random() < 0.1:
            lines.append(rnd.choice(["", "# c", "   # c", "---", "  "]))
    return lines


def _mutate(rnd: random.Random, text: str) -> str:
    for _ in range(rnd.randint(1, 3)):
        index = rnd.randrange(len(text))
        if rnd.random() < 0.4:
            text = text[:index] + text[index + 1 :]
        else:
            text = text[:index] + rnd.choice(" :-#'\"[]{},&*\n x") + text[index:]
    return text


# --- masking values (for diffs that must not show them) ----------------------------------

REDACT_TEXT = """\
version: 1 # Zq7 comment
x-base: &base {restart: always}
services:
  api: {ports: {http: 8000}, environment: {A: "Zq7, }b", B: 'it''s Zq7'}, <<: *base}
  web:
    description: |
      key: Zq7 in a block scalar
    environment:
      - PASSWORD=Zq7
      - "Zq7 quoted
        on two lines"
    tags: [a, "Zq7,]", {k: Zq7}, *base]
    "quoted key": Zq7
# Zq7 alone
"""
REDACTED = """\
version: ***
x-base: ***
services:
  api: {ports: {http: ***}, environment: {A: ***, B: ***}, ***}
  web:
    description: ***
      ***
    environment:
      - ***
      - ***
        ***
    tags: [***, ***, {k: ***}, ***]
    "quoted key": ***
# ***
"""


def test_redact_keeps_keys_and_structure_only() -> None:
    assert redact(REDACT_TEXT, load(REDACT_TEXT, "f.yaml")) == REDACTED


def test_redact_keeps_the_values_asked_for() -> None:
    text = "a: {b: 1, c: 2}\nd:\n  - 3\n---\n"
    document = load_all(text, "f.yaml")[0]
    keep = [document["a"].value_marks["c"], document["d"].item_marks[0]]
    assert redact(text, document, keep) == "a: {b: ***, c: 2}\nd:\n  - 3\n---\n"


def test_brackets_in_comments_quotes_and_plain_scalars_are_not_nesting() -> None:
    path = RESOURCES / "brackets_not_nesting.yaml"
    with pytest.raises(YAMLInputError) as caught:
        load_file(path)
    # The file's real problem (an unclosed flow sequence on line 7) is reported, not depth.
    assert "nesting" not in caught.value.what
    assert caught.value.line == 8
