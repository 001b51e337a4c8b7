"""The pure core: persona parsing, library index, tokens, workspace, strategies, history.

Nothing in this package imports Textual; the TUI and the CLI are thin layers over it.
"""
