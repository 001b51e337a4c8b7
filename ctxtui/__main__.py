"""``python -m ctxtui``."""

from ctxtui.cli import main

raise SystemExit(main())
