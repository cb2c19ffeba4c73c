"""Reconcile: observations of every source against the plan and against each other.

`core` builds the view (the plan's ports and every source's, names matched) and runs the
rules PP201-PP215 (`core.reconcile`, `core.reconcile_paths`); `names` matches a service's
names across sources, `projects` keeps compose projects and Kubernetes namespaces apart,
`rules` holds the rules and `ports` the port-level ones. Kept empty so importing a part
costs only that part.
"""
