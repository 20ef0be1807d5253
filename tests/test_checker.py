"""`apply_fixes`: fixes whose edits collide (with earlier fixes or with each other) are set apart, never raised."""

from __future__ import annotations

from migrator.checker import apply_fixes
from migrator.model import DeleteFile, Fix, Safety, TextEdit

TEXT = {"a.yml": "token: ${{ secrets.GITHUB_TOKEN }}\n"}


def fix(*edits: TextEdit | DeleteFile) -> Fix:
    return Fix("test", Safety.SAFE, edits)


def test_a_fix_whose_own_edits_overlap_is_skipped_not_raised() -> None:
    selfish = fix(TextEdit("a.yml", 11, 31, "secrets.PAT"), TextEdit("a.yml", 20, 32, "X"))
    fine = fix(TextEdit("a.yml", 0, 5, "TOKEN"))
    changes, skipped = apply_fixes(TEXT, [selfish, fine])
    assert skipped == [selfish]
    assert [c.after for c in changes] == ["TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"]


def test_a_fix_colliding_with_an_earlier_one_or_a_deleted_file_is_skipped() -> None:
    first = fix(TextEdit("a.yml", 11, 31, "secrets.PAT"))
    clash = fix(TextEdit("a.yml", 20, 32, "X"))
    gone = fix(DeleteFile("a.yml"))
    after_delete = fix(TextEdit("a.yml", 0, 5, "TOKEN"))
    changes, skipped = apply_fixes(TEXT, [first, clash])
    assert skipped == [clash] and changes[0].after == "token: ${{ secrets.PAT }}\n"
    changes, skipped = apply_fixes(TEXT, [gone, after_delete])
    assert skipped == [after_delete] and changes[0].after is None
