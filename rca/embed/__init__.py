"""Embedding: a sentence-transformers encoder and the store's embedding cache."""

from rca.embed.encoder import Encoder, model_id

__all__ = ["Encoder", "model_id"]
