"""The compose dialect: interpolation, `.env` files and `ports:` entries, as compose-go reads them.

Pure functions over text and YAML-like trees; no file or environment access.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
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

# name -> the module defining it: a member is imported when first asked for, so that
# importing one part of the package (compose.interpolate for `up`) loads no sibling
_MEMBERS = {
    "COMPOSE_CASTS": "casts",
    "DotenvFile": "dotenv",
    "load_environment": "dotenv",
    "parse_dotenv": "dotenv",
    "parse_env_files": "dotenv",
    "ComposeSyntaxError": "errors",
    "DotenvError": "errors",
    "InterpolationError": "errors",
    "InterpolationPathError": "errors",
    "InvalidTemplateError": "errors",
    "MissingRequiredError": "errors",
    "PortSyntaxError": "errors",
    "Reference": "interpolate",
    "Text": "interpolate",
    "Variable": "interpolate",
    "extract_variables": "interpolate",
    "interpolate_tree": "interpolate",
    "substitute": "interpolate",
    "tokenize": "interpolate",
    "PortConfig": "ports",
    "format_port": "ports",
    "parse_ports": "ports",
    "parse_ports_list": "ports",
    "port_bindings": "ports",
}


def __getattr__(name: str) -> object:
    module = _MEMBERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


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
