"""The resolver context, Relay connections and their cursors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from migrator.sandbox.graphql.schema import MAX_PAGE, Cost, GitHubError, Json
from migrator.sandbox.limits import Limits
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import (
    Power,
    Store,
)

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo

# graphql-core passes it to every resolver method (a string: graphql-core 3.2 cannot subscript it at runtime)
Info: TypeAlias = "GraphQLResolveInfo[Any]"



# ---------------------------------------------------------------- context and connections


@dataclass
class GqlContext:
    store: Store
    settings: Settings
    limits: Limits
    base: str
    token: str
    power: Power
    cost: Cost = field(default_factory=lambda: Cost(0, 0))


def encode_cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.b64decode(cursor.encode()).decode()
        return int(text.rsplit(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError, binascii.Error) as error:
        raise GitHubError("INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor.") from error


def connection(info: Info, items: Sequence[Any], args: Json) -> Json:
    """A Relay connection over `items`, with GitHub's checks on `first` and `last`."""
    first, last = args.get("first"), args.get("last")
    name = info.field_name
    if first is None and last is None:
        raise GitHubError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
        )
    for label, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise GitHubError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection "
                f"exceeds the `{label}` limit of {MAX_PAGE} records.",
            )
        if value is not None and value < 0:
            raise GitHubError("INVALID_PAGINATION", f"`{label}` on the `{name}` connection cannot be less than zero.")
    after, before = _decode_cursor(args.get("after")), _decode_cursor(args.get("before"))
    start = after + 1 if after is not None else 0
    end = before if before is not None else len(items)
    window = list(range(start, min(end, len(items))))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    edges = [{"cursor": encode_cursor(i), "node": items[i]} for i in window]
    return {
        "totalCount": len(items),
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1] < min(end, len(items)) - 1,
            "hasPreviousPage": bool(window) and window[0] > start if last is not None else start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }




def map_nodes(result: Json, wrap: Callable[[Any], Any]) -> Json:
    result["nodes"] = [wrap(n) for n in result["nodes"]]
    result["edges"] = [{"cursor": e["cursor"], "node": wrap(e["node"])} for e in result["edges"]]
    return result
