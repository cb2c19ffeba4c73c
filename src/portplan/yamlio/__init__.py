"""Located YAML reading: every key and value keeps its line and column.

`load` is the public API (`load`, `load_all`, `load_file`, the node types); `fast` is the
line parser for plain block/flow YAML, `events` the fallback over PyYAML's event stream,
`tree` the located nodes, `flow` flow collections, `errors` the one-line messages and
`redact` the masking of secret values. Kept empty so importing a part costs only that part.
"""
