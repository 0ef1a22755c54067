"""Seeded sample-data generator: writes an export drop that follows the raw contract."""

from .generate import generate
from .world import Config

__all__ = ["Config", "generate"]
