"""Repeat complaints: detection, per-theme driver figures and example selection (pure)."""
