"""Clustering of contact embeddings into recurring issue themes."""

from rca.cluster.model import ThemeModel

__all__ = ["ThemeModel"]
