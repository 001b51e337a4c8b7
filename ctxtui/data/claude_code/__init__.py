"""Per-version Claude Code figures measured by scripts/claude_code/ (see each file's provenance)."""
