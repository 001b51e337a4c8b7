"""``python -m ctxtui``."""

from ctxtui.cli import entry

entry()
