from __future__ import annotations

import pytest

from migrator.workflow import expressions as ex


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${{ secrets.GITHUB_TOKEN }}", True),
        ("${{secrets.github_token}}", True),
        ("${{ github.token }}", True),
        ("${{ secrets['GITHUB_TOKEN'] }}", True),
        ("  ${{ secrets.GITHUB_TOKEN }}  ", True),
        ("${{ secrets.PAT || secrets.GITHUB_TOKEN }}", False),
        ("${{ github.event_name == 'push' && secrets.GITHUB_TOKEN }}", False),
        ("${{ secrets.GITHUB_TOKEN }}-suffix", False),
        ("${{ secrets.PAT_TOKEN }}", False),
    ],
)
def test_is_github_token_accepts_only_the_bare_expression(value: str, expected: bool) -> None:
    assert ex.is_github_token(value) is expected


def test_github_token_refs_points_at_the_identifier_only() -> None:
    raw = 'url="https://x-access-token:${{secrets.GITHUB_TOKEN}}@github.com" ${{ secrets.A || github.token }}'
    spans = ex.github_token_refs(raw)
    assert [raw[s.start : s.end] for s in spans] == ["secrets.GITHUB_TOKEN"]


def test_single_secret_reads_dot_and_index_forms() -> None:
    assert ex.single_secret("${{ secrets.PAT_TOKEN }}") == "PAT_TOKEN"
    assert ex.single_secret('${{ secrets["GH_PAT"] }}') == "GH_PAT"
    assert ex.single_secret("${{ secrets.A || secrets.B }}") is None
