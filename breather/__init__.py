"""Breather: a local well-being proxy for social media."""

__version__ = "0.1.0"
