"""Workbench for judging empathy-led vs pressure-based collection pilots."""

__version__ = "0.0.1"
