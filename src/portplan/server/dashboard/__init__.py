"""The registry's dashboard: server-rendered pages (Jinja2, htmx) behind the same tokens."""
