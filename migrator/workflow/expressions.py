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


def github_token_refs(raw: str) -> list[Span]:
    """Spans of the identifier (`secrets.GITHUB_TOKEN`, `github.token`) inside each expression of raw."""
    spans: list[Span] = []
    for expression in EXPRESSION.finditer(raw):
        inner_start = expression.start(1)
        if not is_github_token(expression.group(0)):
            continue
        ref = _GITHUB_TOKEN_REF.search(expression.group(1)) or _index_ref(expression.group(1))
        if ref:
            spans.append(Span(inner_start + ref.start(), inner_start + ref.end()))
    return spans


def _index_ref(inner: str) -> re.Match[str] | None:
    return re.search(r"secrets\s*\[\s*(['\"])github_token\1\s*\]", inner, re.IGNORECASE)


def secret_refs(raw: str) -> list[str]:
    """Every secret named in any expression of raw, in order."""
    names: list[str] = []
    for expression in EXPRESSION.finditer(raw):
        for ref in _SECRET_REF.finditer(expression.group(1)):
            names.append(ref.group("dot") or ref.group("idx"))
    return names
