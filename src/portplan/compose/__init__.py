"""The compose dialect: interpolation, `.env` files and `ports:` entries, as compose-go reads them.

Pure functions over text and YAML-like trees; no file or environment access.
"""

from __future__ import annotations

from portplan.compose.casts import COMPOSE_CASTS
from portplan.compose.dotenv import DotenvFile, load_environment, parse_dotenv, parse_env_files
from portplan.compose.errors import (
    ComposeSyntaxError,
    DotenvError,
    InterpolationError,
    InterpolationPathError,
    InvalidTemplateError,
    MissingRequiredError,
    PortSyntaxError,
)
from portplan.compose.interpolate import (
    Reference,
    Text,
    Variable,
    extract_variables,
    interpolate_tree,
    substitute,
    tokenize,
)
from portplan.compose.ports import (
    PortConfig,
    format_port,
    parse_ports,
    parse_ports_list,
    port_bindings,
)

__all__ = [
    "COMPOSE_CASTS",
    "ComposeSyntaxError",
    "DotenvError",
    "DotenvFile",
    "InterpolationError",
    "InterpolationPathError",
    "InvalidTemplateError",
    "MissingRequiredError",
    "PortConfig",
    "PortSyntaxError",
    "Reference",
    "Text",
    "Variable",
    "extract_variables",
    "format_port",
    "interpolate_tree",
    "load_environment",
    "parse_dotenv",
    "parse_env_files",
    "parse_ports",
    "parse_ports_list",
    "port_bindings",
    "substitute",
    "tokenize",
]
