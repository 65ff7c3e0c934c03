"""rca: root-cause mining and repeat-complaint detection for support contacts."""

__version__ = "0.1.0"
