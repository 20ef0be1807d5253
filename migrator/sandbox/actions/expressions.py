"""A small evaluator for GitHub Actions expressions (`${{ … }}` and `if:`).

GitHub docs, "Evaluate expressions in workflows and actions": literals (strings in single quotes, numbers, `true`,
`false`, `null`), context references (`github.ref`, `secrets.X`, `env.X`, `needs.<job>.outputs.<name>`,
`steps.<id>.outputs.<name>`), the operators `!`, `==`, `!=`, `&&`, `||` and parentheses, the functions `success()`,
`always()`, `failure()`, `cancelled()`, `contains()`, `startsWith()`, `endsWith()`, and `format()`. Comparisons of
strings ignore case, and so do property names. `&&` and `||` give one of their operands, as in JavaScript. An
`if:` without `${{ }}` is still an expression, and a job or step without `if:` runs on `success()`. Anything the
evaluator does not know evaluates to '' (GitHub gives null for a missing property), so an unknown condition is
false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Value = str | bool | float | None
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!()<>,])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-*]+|\[[^\]]*\])*))"
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


@dataclass(frozen=True)
class Scope:
    """The contexts an expression can read, and the status of the job so far (for `success()`)."""

    contexts: Mapping[str, Any] = field(default_factory=dict)
    failed: bool = False

    def lookup(self, dotted: str) -> Any:
        value: Any = self.contexts
        for part in _path(dotted):
            if not isinstance(value, Mapping):
                return None
            # property names are case-insensitive: secrets.github_token is secrets.GITHUB_TOKEN
            value = value.get(part, next((v for k, v in value.items() if str(k).lower() == part.lower()), None))
        return value


def _path(dotted: str) -> list[str]:
    parts: list[str] = []
    for piece in re.findall(r"[^.\[\]]+|\[[^\]]*\]", dotted):
        parts.append(piece[1:-1].strip("'\"") if piece.startswith("[") else piece)
    return parts


def interpolate(text: str, scope: Scope) -> str:
    """`text` with every `${{ expr }}` replaced by its value as a string."""
    return EXPRESSION.sub(lambda m: to_string(evaluate(m.group(1), scope)), text)


def condition(text: str | None, scope: Scope) -> bool:
    """An `if:`: none means `success()`; one using no status function gets `success() &&` in front."""
    if text is None:
        return not scope.failed
    inner = text.strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", inner, re.S)
    inner = match.group(1) if match else inner
    uses_status = re.search(r"\b(success|always|failure|cancelled)\s*\(", inner) is not None
    result = truthy(evaluate(inner, scope))
    return result if uses_status else result and not scope.failed


def truthy(value: Value) -> bool:
    if isinstance(value, str):
        return value != ""
    if isinstance(value, float):
        return value != 0
    return bool(value)


def to_string(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def evaluate(text: str, scope: Scope) -> Value:
    try:
        parser = _Parser(_tokens(text), scope)
        value = parser.disjunction()
    except (ValueError, IndexError):
        return None
    return value if parser.done() else None


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {text[position:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right) if (left is not None and right is not None) else left == right
    return left == right


FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "contains": lambda a: to_string(a[1]).lower() in to_string(a[0]).lower(),
    "startswith": lambda a: to_string(a[0]).lower().startswith(to_string(a[1]).lower()),
    "endswith": lambda a: to_string(a[0]).lower().endswith(to_string(a[1]).lower()),
    "format": lambda a: re.sub(r"\{(\d+)\}", lambda m: to_string(a[int(m.group(1)) + 1]), to_string(a[0])),
}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], scope: Scope) -> None:
        self.tokens, self.scope, self.at = tokens, scope, 0

    def done(self) -> bool:
        return self.at == len(self.tokens)

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def disjunction(self) -> Value:
        value = self.conjunction()
        while self._peek() == "||":
            self._take()
            other = self.conjunction()
            value = value if truthy(value) else other
        return value

    def conjunction(self) -> Value:
        value = self.comparison()
        while self._peek() == "&&":
            self._take()
            other = self.comparison()
            value = other if truthy(value) else value
        return value

    def comparison(self) -> Value:
        value = self.unary()
        while self._peek() in ("==", "!="):
            operator = self._take()[1]
            other = self.unary()
            value = _equal(value, other) if operator == "==" else not _equal(value, other)
        return value

    def unary(self) -> Value:
        if self._peek() == "!":
            self._take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Value:
        kind, text = self._take()
        if text == "(":
            value = self.disjunction()
            self._expect(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind != "name":
            raise ValueError(text)
        if self._peek() == "(":
            return self._call(text.lower())
        return self._reference(text)

    def _expect(self, text: str) -> None:
        if self._take()[1] != text:
            raise ValueError(text)

    def _call(self, name: str) -> Value:
        self._take()
        arguments: list[Value] = []
        while self._peek() != ")":
            arguments.append(self.disjunction())
            if self._peek() == ",":
                self._take()
        self._take()
        status = {"success": not self.scope.failed, "always": True, "failure": self.scope.failed, "cancelled": False}
        if name in status:
            return status[name]
        function = FUNCTIONS.get(name)
        return function(arguments) if function is not None and arguments else None

    def _reference(self, text: str) -> Value:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        value = self.scope.lookup(text)
        if isinstance(value, (str, bool, float)) or value is None:
            return value
        if isinstance(value, int):
            return float(value)
        return to_string(str(value))
