"""Stepping ctxtui's CLAUDE.md changes back while keeping what others wrote outside its block.

A rollback restores recorded bytes. When someone (the user, an editor, Claude Code's memory)
wrote to CLAUDE.md after ctxtui's change, restoring the recorded bytes would drop that text.
Here each recorded change (before -> after) is stepped back as a three-way merge with the
recorded ``after`` as the base: ctxtui's side goes from ``after`` to ``before``, the other
side from ``after`` to the file as it is now. The texts are compared as lines (split on LF
only, so CRLF and lone CRs stay byte for byte), with ctxtui's whole block as one token; the
edits are found on each side of the block, so a block moved by hand is still the block.

The merge goes ahead only when the two sides touch different lines, and the block in the
file now is byte-identical to the block ctxtui recorded writing, or gone when the step back
takes it out too (a block edited, removed while the step back needs it, or added by hand
refuses: :class:`KeepRefused` with ``block_edited``). Text written right after
a line that the step back leaves without a line break (the file ctxtui appended its block to
had none) starts on a line of its own. With no edits at all the result is the recorded
``before``, byte for byte; when the whole file was rewritten with other line endings since
(an editor turned it CRLF), the lines ctxtui brings back are written with those.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from ctxtui.core.claude_md import BlockError, find_block, newline_of

__all__ = ["MEMORY_FILES", "KeepRefused", "step_back"]

MEMORY_FILES = ("CLAUDE.md", ".claude/CLAUDE.md")
"""The memory files (relative to the project) a rollback merges instead of refusing."""
MAX_MERGED_CHARS = 1024 * 1024
"""A memory file longer than this is not merged (refused as edited): Claude Code warns far
below it, and splitting many MB into lines under the lock takes seconds and GBs."""
MAX_COMPARED = 1_000_000
"""Lines compared at most (changed lines of one side times the other's): beyond that the
merge refuses rather than take seconds under the lock."""

Hunk = tuple[int, int, list[str]]  # base[i1:i2] becomes the lines given


class KeepRefused(Exception):
    """The edits cannot be kept by stepping back: ``why`` says it in a few words;
    ``block_edited`` when ctxtui's block itself was changed by someone else."""

    def __init__(self, why: str, *, block_edited: bool = False, replaceable: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.block_edited = block_edited
        self.replaceable = replaceable
        """The block's markers are intact (only its text was edited): ``replace_block`` merges."""


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _is_block(token: str) -> bool:
    return "\n" in token[:-1]  # a line holds a line break only at its end; the block has several


def _tokens(text: str) -> tuple[list[str], int | None]:
    """Lines, with the block as one token; and the block's index. Raises BlockError."""
    block = find_block(text)
    if block is None:
        return _lines(text), None
    pre = _lines(text[: block.start])
    return [*pre, text[block.start : block.end], *_lines(text[block.end :])], len(pre)


def _hunks(a: list[str], b: list[str]) -> list[Hunk]:
    """The changes from A to B, in A's positions (common ends first: linear for small edits)."""
    p = 0
    while p < len(a) and p < len(b) and a[p] == b[p]:
        p += 1
    s = 0
    while s < len(a) - p and s < len(b) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    mid_a, mid_b = a[p : len(a) - s], b[p : len(b) - s]
    if len(mid_a) * len(mid_b) > MAX_COMPARED:
        raise KeepRefused("too many lines changed to tell the edits apart")
    ops = SequenceMatcher(None, mid_a, mid_b, autojunk=False).get_opcodes()
    return [(p + i1, p + i2, mid_b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def _clash(x: Hunk, y: Hunk) -> bool:
    """Two changes (one from each side) that touch the same lines of the base. Two inserts at
    one place do not clash (theirs goes first); an insert at the edge of a change does not."""
    (a1, a2, _), (b1, b2, _) = x, y
    if a1 == a2 and b1 == b2:
        return False
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return max(a1, b1) < min(a2, b2)


def _split(hunks: list[Hunk]) -> list[Hunk]:
    """Pure deletions line by line: text someone added between lines the other side takes
    out stays, and a line both sides took out is one change."""
    out: list[Hunk] = []
    for i1, i2, new in hunks:
        out += [(i, i + 1, []) for i in range(i1, i2)] if not new else [(i1, i2, new)]
    return out


def _loosen(hunks: list[Hunk], other: list[Hunk], *, deletions: bool) -> list[Hunk]:
    """A replacement (lines i1..i2 become NEW) as NEW inserted at i1 and each line taken out,
    where every change of the other side it touches is an insert (or, with ``deletions``, a
    line the other side takes out too): those changes then fit around it instead of clashing.
    ctxtui's replacements are loosened for inserts only: a line the user took out is never
    brought back in another form."""
    out: list[Hunk] = []
    for hunk in hunks:
        i1, i2, new = hunk
        touching = [y for y in other if _clash(hunk, y)]
        if new and i2 > i1 and touching and all(
                y[0] == y[1] or (deletions and not y[2] and y[1] == y[0] + 1) for y in touching):
            out += [(i1, i1, new)] + [(i, i + 1, []) for i in range(i1, i2)]
        else:
            out.append(hunk)
    return out


def _merge(base: list[str], ours: list[Hunk], theirs: list[Hunk]) -> str:
    """BASE with both sides' changes (``ours``: ctxtui's step back, ``theirs``: the edits)."""
    ours, theirs = _split(ours), _split(theirs)
    theirs = _loosen(theirs, ours, deletions=True)
    ours = _loosen(ours, theirs, deletions=False)
    theirs_set = {(i1, i2, tuple(new)) for i1, i2, new in theirs}
    ours = [h for h in ours if (h[0], h[1], tuple(h[2])) not in theirs_set]  # same edit both sides
    for x in ours:
        for y in theirs:
            if _clash(x, y):
                raise KeepRefused("the edits touch lines ctxtui's change also changed")
    tagged = [(i1, i1 != i2, side, i2, new) for side, hunks in ((0, theirs), (1, ours))
              for i1, i2, new in hunks]
    out: list[str] = []
    pos = 0
    nl = newline_of("".join(base))
    for i1, _, side, i2, new in sorted(tagged, key=lambda t: t[:3]):
        out += base[pos:i1]
        pos = max(pos, i1)
        if side == 0 and new and out and not out[-1].endswith("\n") and not _is_block(out[-1]) \
                and not new[0].startswith(("\n", "\r\n")):
            out.append(nl)  # their line would be glued to the end of a line ctxtui brought back
        out += new
        pos = max(pos, i2)
    out += base[pos:]
    return "".join(out)


def _endings(text: str) -> str | None:
    """``\r\n`` when every line of TEXT ends so, ``\n`` when none does, None when mixed or
    there is no line break."""
    lf, crlf = text.count("\n"), text.count("\r\n")
    return None if not lf else "\r\n" if crlf == lf else "\n" if not crlf else None


def _renew(text: str, nl: str) -> str:
    """TEXT with each of its line endings (LF or CRLF) written as NL."""
    return text.replace("\r\n", "\n").replace("\n", nl)


def _step(now: str | None, before: str | None, after: str | None, replace_block: bool) -> str | None:
    """NOW with one recorded change (BEFORE -> AFTER) stepped back; None: no file."""
    if before == after or now == after:
        return before if now == after else now
    if now is None:
        raise KeepRefused("the file was removed after ctxtui's change")
    if max(len(now), len(before or ""), len(after or "")) > MAX_MERGED_CHARS:
        raise KeepRefused("too large to tell the edits apart")
    base_text, want_text = after or "", before or ""
    try:
        base, bi = _tokens(base_text)
        want, wi = _tokens(want_text)
    except BlockError:
        raise KeepRefused("ctxtui's recorded copy has malformed block markers") from None
    try:
        cur, ci = _tokens(now)
    except BlockError:
        raise KeepRefused("its ctxtui block markers were edited", block_edited=True) from None
    if bi is None and ci is not None:
        raise KeepRefused("a ctxtui block was added by hand", block_edited=True)
    if replace_block and bi is not None and ci is not None:
        cur[ci] = base[bi]  # the edit inside the block goes; the text around it stays
    if bi is not None and ci is None and wi is not None:
        raise KeepRefused("its ctxtui block was removed by hand", block_edited=True)
    if bi is not None and ci is not None and cur[ci] != base[bi]:
        raise KeepRefused("its ctxtui block was edited after ctxtui wrote it", block_edited=True, replaceable=True)
    if bi is None or ci is None:  # no block, or both sides take it out: plain lines
        theirs = _hunks(base, cur)
    else:  # the block is the block: the edits are what changed before it and after it
        theirs = _hunks(base[:bi], cur[:ci])
        theirs += [(i1 + bi + 1, i2 + bi + 1, new) for i1, i2, new in _hunks(base[bi + 1 :], cur[ci + 1 :])]
    ours = _hunks(base, want)
    nl, was = _endings(now), _endings(want_text or base_text)
    if nl is not None and was is not None and nl != was:  # the whole file was rewritten with
        ours = [(i1, i2, [_renew(t, nl) for t in new]) for i1, i2, new in ours]  # other line endings
        want = [_renew(t, nl) for t in want]  # since: ctxtui's lines follow
    merged = _merge(base, ours, theirs)
    try:
        found = find_block(merged)
    except BlockError:
        raise KeepRefused("the edits and ctxtui's markers would not fit together") from None
    block_now = merged[found.start : found.end] if found else None
    if block_now != (want[wi] if wi is not None else None):
        raise KeepRefused("the edits would move into ctxtui's block")
    return None if before is None and not merged else merged


def step_back(now: str | None, changes: list[tuple[str | None, str | None]], *,
              replace_block: bool = False) -> str | None:
    """NOW (None: no file) with ctxtui's recorded changes stepped back, keeping every edit
    made outside its block since. ``changes``: (before, after) of each change, newest first.
    Returns the text to write, or None when the file goes (it did not exist before the
    oldest change and nothing anyone else wrote is left). Raises :class:`KeepRefused`.
    ``replace_block`` (``--force``): an edit inside the block is overwritten, the edits
    around it are still kept."""
    for before, after in changes:
        now = _step(now, before, after, replace_block)
    return now
