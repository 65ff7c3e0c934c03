"""Ingest: files -> validated, redacted contacts in the store; bad rows to quarantine."""
