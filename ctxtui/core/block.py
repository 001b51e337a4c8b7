"""The CLAUDE.md block a workspace's hot set generates, rendered from plain inputs.

Both the workspace (keeping the block in step on activate/deactivate) and the strategies
(migrations) render it, so it lives below both: this module never imports either, and the
workspace is only seen through the :class:`BlockSource` protocol.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from ctxtui.core import claude_md
from ctxtui.core.config import Settings, WorkspaceConfig, bundled_dir
from ctxtui.core.errors import CtxtuiError, EditedBlockError
from ctxtui.core.library import Library
from ctxtui.core.persona import Persona
from ctxtui.core.registry import FineTunedModel, load_registry, pick_model, validation_problem


class BlockSource(Protocol):
    """What rendering needs from a workspace."""

    settings: Settings
    config: WorkspaceConfig
    library: Library

    @property
    def pinned(self) -> list[str]: ...

    def library_after(self, leaving: Iterable[Any] = ()) -> list[Persona]: ...


def registry_path(ws: BlockSource) -> Path:
    """The fine-tuned model registry file."""
    return ws.settings.workspace / ws.config.fine_tuning.model_registry


def fine_tuned_model(ws: BlockSource) -> tuple[FineTunedModel | None, str]:
    """The model to use and, if it cannot be used, why."""
    models = load_registry(registry_path(ws))
    model = pick_model(models, ws.config.models.research if ws.config.fine_tuning.experimental
                       else ws.config.models.production)
    if model is None:
        return None, f"no fine-tuned model is registered in {registry_path(ws)}"
    if not model.healthy:
        return None, f"fine-tuned model {model.name} is marked unhealthy"
    if (why := validation_problem(model.validation)) is not None:
        return None, f"fine-tuned model {model.name} cannot be used: {why}"
    return model, ""


def claude_md_path(ws: BlockSource) -> Path:
    """The project memory file ctxtui writes its block into."""
    root = ws.settings.workspace
    if not os.path.lexists(root / "CLAUDE.md") and (root / ".claude" / "CLAUDE.md").is_file():
        return root / ".claude" / "CLAUDE.md"
    return root / "CLAUDE.md"


def decode(data: bytes | None) -> str:
    """File bytes as text every byte of which survives :func:`encode` (no newline
    translation; invalid UTF-8 kept as surrogates)."""
    return (data or b"").decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """The inverse of :func:`decode`."""
    return text.encode("utf-8", "surrogateescape")


def read_text(path: Path) -> str:
    """A memory file's text for a preview (writes read it through their transaction)."""
    from ctxtui.core.safe_io import read_regular

    try:
        return decode(read_regular(path))
    except FileNotFoundError:
        return ""


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def check_unedited(ws: BlockSource, text: str) -> None:
    """Raise EditedBlockError when the block in TEXT (CLAUDE.md as it is now) differs from the
    block ctxtui last recorded writing: someone (an editor, Claude Code) wrote inside the
    markers, and rewriting or removing the block would lose that. Line endings do not count;
    with no recorded block (history cleared, a block pasted by hand) there is nothing to
    compare and nothing is refused."""
    from ctxtui.core.errors import StateError
    from ctxtui.core.history import ABSENT, History

    span = claude_md.block_span(text, strict=False)
    if span is None:
        return
    history = History(ws.settings)
    path = claude_md_path(ws)
    try:
        rel = history.rel(path)
    except ValueError:
        return
    newest = history.last()
    last = newest.after.get(rel) if newest is not None else None  # every snapshot holds every managed file
    if last is None or last == ABSENT:
        return
    try:
        recorded = decode(history.blob(last))
    except StateError:
        return
    old = claude_md.block_span(recorded, strict=False)
    if old is None or _lf(recorded[old[0]:old[1]]) == _lf(text[span[0]:span[1]]):
        return
    line = text.count("\n", 0, span[0]) + 1
    raise EditedBlockError(
        f"{path.name}: the ctxtui block (from line {line}) was edited after ctxtui wrote it, and this "
        "change would rewrite it; move your text above or below the markers, or undo the edit, "
        "then retry (`ctxtui claude-md --write --force` replaces it)")


def block_input(ws: BlockSource, strategy: str, hot: list[str], model: FineTunedModel | None,
                leaving: Iterable[Any] = ()) -> claude_md.BlockInput:
    """What the block is rendered from, for a hot set under a strategy (``leaving``: hot
    files the same change sends to cold storage)."""
    covered = set(model.personas) if model and strategy in ("fine_tuned", "hybrid") else set()
    cold = [p for p in ws.library_after(leaving) if p.name not in set(hot) and p.name not in covered]
    return claude_md.BlockInput(
        strategy=strategy, hot=hot, pinned=ws.pinned, cold=cold,
        variants=ws.library.same_body(), roots=[*ws.library.roots, bundled_dir("personas")],
        workspace=ws.settings.workspace, model=model.name if model is not None and covered else None,
        covered=sorted(covered) if covered else None, agents_watched=agents_watched(ws),
    )


def agents_watched(ws: BlockSource) -> bool | None:
    """Whether the project's Claude Code picks up new agent files mid-session (its version's
    profile); None when the version is unknown."""
    from ctxtui.core.claude_code.profiles import profile_for
    from ctxtui.core.claude_version import detect
    from ctxtui.core.config import cache_dir

    try:
        found = detect(setting=ws.config.claude_version, workspace=ws.settings.workspace,
                       projects_dir=ws.settings.transcripts, cache_dir=cache_dir())
    except CtxtuiError:
        return None
    return None if found.version is None else profile_for(found.version).agents_watched


def choose_density(ws: BlockSource, inp: claude_md.BlockInput, density: str | None) -> str:
    """The requested density, the configured one, or the default for the library's size."""
    d = density or ws.config.lazy_loading.index_density
    return claude_md.default_density(len(inp.cold)) if d == "auto" else d


def render_claude_md(ws: BlockSource, strategy: str, hot: list[str], model: FineTunedModel | None,
                     density: str | None = None, drop_refs: list[str] | None = None,
                     leaving: Iterable[Any] = (), text: str | None = None) -> tuple[str, str]:
    """(new CLAUDE.md text, density used) from ``text`` (default: the file now). Eager has
    no block."""
    if text is None:
        text = read_text(claude_md_path(ws))
    if drop_refs:
        span = claude_md.block_span(text)
        if span is None:
            text = claude_md.drop_imports(text, drop_refs)
        else:
            text = claude_md.drop_imports(text[: span[0]], drop_refs) + text[span[0] : span[1]] + claude_md.drop_imports(text[span[1] :], drop_refs)
    if strategy == "eager":
        return claude_md.splice(text, None), "none"
    inp = block_input(ws, strategy, hot, model, leaving)
    used = "search" if strategy == "fine_tuned" and density is None else choose_density(ws, inp, density)
    return claude_md.splice(text, claude_md.render_block(inp, used)), used
