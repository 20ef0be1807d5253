"""Markdown that repository content cannot break out of.

Plans carry other people's text (paths, workflow lines, messages quoting them) into review issues and
job summaries. Inside a diff, a line of backticks could close our fence and turn what follows into
live markdown: mentions, links, images. CommonMark lets a fence be longer than any backtick run it
contains, so every fence here is. Outside fences, ASCII punctuation that means something is escaped
with a backslash (CommonMark: any ASCII punctuation may be), and HTML's `<` cannot open a tag.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>|@~&])")  # what can open markup mid-line; `-`, `#`, `(` matter only after these


def escape(text: str) -> str:
    """One line of inline text, inert: no emphasis, links, images, mentions, HTML or table cells."""
    flat = " ".join(text.splitlines())
    return _SPECIAL.sub(r"\\\1", flat)


def _longest_run(text: str, char: str = "`") -> int:
    runs = [len(m.group()) for m in re.finditer(re.escape(char) + "+", text)]
    return max(runs, default=0)


def code(text: str) -> str:
    """An inline code span that holds any text: more backticks than the text has in a row."""
    flat = " ".join(text.splitlines())
    ticks = "`" * (_longest_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def fenced(body: str, info: str = "") -> list[str]:
    """A fenced block longer than any backtick run inside, so no line of the body can close it."""
    fence = "`" * max(3, _longest_run(body) + 1)
    return [fence + info, *body.rstrip("\n").splitlines(), fence]
