"""GitHub Actions `${{ ... }}` expressions: just enough to find token references."""

from __future__ import annotations

import re
from dataclasses import dataclass

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_SECRET_REF = re.compile(rf"secrets\s*\.\s*(?P<dot>{_IDENT})|secrets\s*\[\s*(?P<q>['\"])(?P<idx>{_IDENT})(?P=q)\s*\]")
_WHOLE_SECRET = re.compile(rf"\s*(?:{_SECRET_REF.pattern})\s*")
_GITHUB_TOKEN_REF = re.compile(r"secrets\s*\.\s*github_token\b|github\s*\.\s*token\b", re.IGNORECASE)
_WHOLE_GITHUB_TOKEN = re.compile(
    r"\s*(?:secrets\s*\.\s*github_token|secrets\s*\[\s*(['\"])github_token\1\s*\]|github\s*\.\s*token)\s*",
    re.IGNORECASE,
)

GITHUB_TOKEN = "GITHUB_TOKEN"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def whole_expression(value: str) -> str | None:
    """The inside of `${{ ... }}` when the value is exactly one expression, else None."""
    stripped = value.strip()
    match = EXPRESSION.fullmatch(stripped)
    return match.group(1) if match else None


def single_secret(value: str) -> str | None:
    """`X` when the value is exactly `${{ secrets.X }}` (any spacing); GITHUB_TOKEN included."""
    inner = whole_expression(value)
    if inner is None:
        return None
    match = _WHOLE_SECRET.fullmatch(inner)
    if not match:
        return None
    return match.group("dot") or match.group("idx")


def is_github_token(value: str) -> bool:
    """True when the value is exactly `${{ secrets.GITHUB_TOKEN }}` or `${{ github.token }}`.

    Fallbacks (`a || b`), conditionals and anything else return False: those are never rewritten.
    """
    inner = whole_expression(value)
    return inner is not None and _WHOLE_GITHUB_TOKEN.fullmatch(inner) is not None


def is_pat_name(secret: str) -> bool:
    return secret.upper() != GITHUB_TOKEN


def github_token_refs(raw: str, quote: str | None = None) -> list[Span]:
    """Spans of the identifier (`secrets.GITHUB_TOKEN`, `github.token`) inside each expression of raw.

    raw is YAML source text and `quote` the quoting of its scalar (`'`, `"`, or None for plain and
    block scalars). Quoting escapes are read through, so the index form written inside quotes
    (`"${{ secrets[\\"GITHUB_TOKEN\\"] }}"`, `'${{ secrets[''GITHUB_TOKEN''] }}'`) is found too; the
    spans always index raw.
    """
    spans: list[Span] = []
    for expression in EXPRESSION.finditer(raw):
        value, offsets = _unquote(expression.group(0), quote)
        if not is_github_token(value):
            continue
        ref = _GITHUB_TOKEN_REF.search(value) or _index_ref(value)
        if ref:
            spans.append(Span(expression.start() + offsets[ref.start()], expression.start() + offsets[ref.end()]))
    return spans


# YAML's double-quoted escapes (besides the hex ones: x, u, U); any other escaped character stands for itself.
_SIMPLE_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_ESCAPE_LENGTH = {"x": 2, "u": 4, "U": 8}
_HEX = re.compile(r"[0-9A-Fa-f]+")


def _unquote(raw: str, quote: str | None) -> tuple[str, list[int]]:
    """raw with a quoted scalar's escapes undone, and for each character (and the end) its offset in raw."""
    if quote not in {"'", '"'}:
        return raw, list(range(len(raw) + 1))
    chars: list[str] = []
    offsets: list[int] = []
    index = 0
    while index < len(raw):
        offsets.append(index)
        if quote == "'" and raw.startswith("''", index):
            chars.append("'")
            index += 2
        elif quote == '"' and raw[index] == "\\" and index + 1 < len(raw):
            code = raw[index + 1]
            digits = raw[index + 2 : index + 2 + _HEX_ESCAPE_LENGTH.get(code, 0)]
            if digits and len(digits) == _HEX_ESCAPE_LENGTH[code] and _HEX.fullmatch(digits):
                chars.append(chr(min(int(digits, 16), 0x10FFFF)))
            else:
                digits = ""
                chars.append(_SIMPLE_ESCAPES.get(code, code))
            index += 2 + len(digits)
        else:
            chars.append(raw[index])
            index += 1
    offsets.append(len(raw))
    return "".join(chars), offsets


def _index_ref(inner: str) -> re.Match[str] | None:
    return re.search(r"secrets\s*\[\s*(['\"])github_token\1\s*\]", inner, re.IGNORECASE)


def secret_refs(raw: str) -> list[str]:
    """Every secret named in any expression of raw, in order."""
    names: list[str] = []
    for expression in EXPRESSION.finditer(raw):
        for ref in _SECRET_REF.finditer(expression.group(1)):
            names.append(ref.group("dot") or ref.group("idx"))
    return names
