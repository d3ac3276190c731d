"""Fingerprints: ANSI/NIST-ITL records, NBIS extraction and comparison, templates, 1:N search."""
