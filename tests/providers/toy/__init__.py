"""A throwaway provider kind, added exactly as docs/adding-a-provider.md walks through it:
this folder plus one line in providers/registry.py (the test patches that line in)."""
