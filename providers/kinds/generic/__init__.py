"""The Generic (HTTP) kind: any provider with an HTTP API (SPEC §2.2)."""
