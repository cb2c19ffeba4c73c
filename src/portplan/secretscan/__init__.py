"""One secret detector, shared by every part of portplan that may show a value.

- `detect`: whether a variable's value is a secret and how strong a finding it makes
  (`check`'s PP111, `reconcile`'s PP210, `generate`'s env files and documents, the values
  the sources keep);
- `argv`: a command line with its secrets masked (the live commands);
- `text`: a line of free text with its secrets masked (the `--check` diffs, Markdown).

Only `re` and `math` are imported, on purpose: `portplan ports` masks every command line it
shows on a path that imports neither typing nor click (tests/test_cli_entry.py). Kept empty
so importing one part costs only that part.
"""
