"""Sequence sources: folder loaders, the catalog of named clips, synthetic sequences, noise models."""
