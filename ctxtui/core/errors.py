"""The one base class for mistakes and refusals the user should see as a single line."""


class CtxtuiError(Exception):
    """Bad input or a refused operation; nothing was changed. Faces print ``str(exc)``."""
