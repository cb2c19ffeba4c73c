"""The plan (`portplan.yaml`): its schema, loading into the model, edits written back.

`schema` states the file format once (stage-1 validation and JSON Schema); `loader` finds
the plan, follows includes and builds the model; `check` runs the rules over it;
`allocate` and `allocation_io` pick free ports and write them back through `writeback`,
which edits the text at parsed locations; `listing` is the service/port table of `ls`.
Kept empty so importing a part costs only that part.
"""
