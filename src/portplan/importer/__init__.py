"""Import: observations of every source -> a new `portplan.yaml`.

`core` is the entry (`import_paths`, `import_results`, `write`); `sources` prepares the
sources' observations, `services` and `vote` settle each service's ports (the number most
files state), `facts` and `products` the rest of what a service is, `conflicts` records
every disagreement, `plan` holds the result and `text` writes it as YAML with comments.
Kept empty so importing a part costs only that part.
"""
