"""The running monitor: the service that owns the feeds, its HTTP server (/metrics, /healthz)
and the built-in wallboard."""
