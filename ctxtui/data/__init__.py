"""Packaged data (read with importlib.resources)."""
