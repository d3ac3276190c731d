"""The append-only, hash-chained audit log: one chain per agency (and one for the federal side)."""
