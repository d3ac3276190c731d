"""Fuzz harnesses for custody's own parsers; see fuzz/README.md. Run one as ``python -m fuzz.NAME``."""
