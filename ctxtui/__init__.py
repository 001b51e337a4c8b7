"""ctxtui: keep Claude Code's startup context small by lazy-loading subagent personas."""

__version__ = "0.1.0"
