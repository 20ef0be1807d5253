"""A fuzzed editor: the token-mismatch fix on workflow files written in many YAML styles.

Each generated case is a workflow (see strategies.py) whose release job pushes with GITHUB_TOKEN
in its checkout `token:`, an x-access-token URL and the release step's env, next to jobs and
steps that must never be touched. For every case, applying the fixes must
  (a) read back, through a YAML parser, as exactly the intended change (GITHUB_TOKEN -> the PAT at the
      release job's sites, plus `token:` for checkouts that persist GITHUB_TOKEN);
  (b) leave every byte outside the edited spans as it was, and change only lines holding an edited token;
  (c) be idempotent: nothing is left to fix, and fixing again changes nothing.
Likewise, deleting redundant docker workflows removes exactly their README badges.

Deterministic in CI: derandomized, a fixed number of examples (400 workflows, 150 READMEs), no example
database. About 30 s on two cores; `python bench/bench_editor_fuzz.py` runs the same strategies longer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from migrator.model import TextEdit
from migrator.workflow.edit import EditConflict, apply_text_edits
from tests.workflow.strategies import (
    Case,
    ReadmeCase,
    apply,
    check_readme_case,
    check_token_case,
    readme_cases,
    token_cases,
    token_fixes,
)

EXAMPLES = 400
settings.register_profile(
    "editor-fuzz",
    derandomize=True,
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("editor-fuzz")


@FUZZ
@given(case=token_cases())
def test_token_fix_is_surgical_semantic_and_idempotent(case: Case) -> None:
    check_token_case(case)


# --- regressions found while fuzzing, pinned as plain examples -----------------------------------------


def _fixed(text: str) -> str:
    fixed = apply(text, token_fixes(text))
    assert token_fixes(fixed) == []
    return fixed


PAT = "env:\n  GH_PAT: ${{ secrets.PAT_TOKEN }}\n"


def test_index_form_inside_quoted_scalars_is_rewritten_through_the_escapes() -> None:
    # The site is found on the parsed value; the edit must find it in the source, where YAML escapes it.
    text = (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        '      - run: "git remote set-url origin '
        'https://x-access-token:${{ secrets[\\"GITHUB_TOKEN\\"] }}@github.com/a/b"\n'
        "      - run: npx semantic-release\n"
        "        env:\n"
        "          GH_TOKEN: '${{ secrets[''GITHUB_TOKEN''] }}'\n"
        '          GITHUB_TOKEN: "${{ secrets[\\"GITHUB_TOKEN\\"] }}"\n'
    )
    assert _fixed(text) == (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        '      - run: "git remote set-url origin '
        'https://x-access-token:${{ secrets.PAT_TOKEN }}@github.com/a/b"\n'
        "      - run: npx semantic-release\n"
        "        env:\n"
        "          GH_TOKEN: '${{ secrets.PAT_TOKEN }}'\n"
        '          GITHUB_TOKEN: "${{ secrets.PAT_TOKEN }}"\n'
    )


def test_a_comment_on_a_block_scalar_header_is_not_part_of_the_script() -> None:
    text = (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        "      - run: |  # was x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com\n"
        "          git remote set-url origin https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/a/b\n"
        "          npx semantic-release\n"
    )
    fixed = _fixed(text)
    assert fixed == text.replace(
        "token:${{ secrets.GITHUB_TOKEN }}@github.com/a/b", "token:${{ secrets.PAT_TOKEN }}@github.com/a/b"
    )


def test_a_commented_out_line_of_a_double_quoted_script_is_left_alone() -> None:
    # In the source the `# git push` line is not at a line start (`\n` is an escape): judge it on the script.
    text = (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        '      - run: "echo go\\n# git push https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/a/old\\n'
        'git push https://x-access-token:${{ secrets.GITHUB_TOKEN }}@github.com/a/b\\nnpx semantic-release\\n"\n'
    )
    fixed = _fixed(text)
    assert fixed == text.replace(
        "${{ secrets.GITHUB_TOKEN }}@github.com/a/b", "${{ secrets.PAT_TOKEN }}@github.com/a/b"
    )


def test_a_job_token_feeding_both_a_push_url_and_the_release_is_fixed_in_one_go() -> None:
    # The job's GH_TOKEN is a site twice (URL env, release env); the checkout persisting GITHUB_TOKEN
    # must get its `token:` in the first run, not in a second one.
    text = (
        f"on: push\n{PAT}jobs:\n  release:\n    env:\n      GH_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: git remote set-url origin https://x-access-token:${GH_TOKEN}@github.com/a/b\n"
        "      - run: npx semantic-release\n"
    )
    assert _fixed(text) == (
        f"on: push\n{PAT}jobs:\n  release:\n    env:\n      GH_TOKEN: ${{{{ secrets.PAT_TOKEN }}}}\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          token: ${{ secrets.PAT_TOKEN }}\n"
        "      - run: git remote set-url origin https://x-access-token:${GH_TOKEN}@github.com/a/b\n"
        "      - run: npx semantic-release\n"
    )


def test_a_token_is_added_after_values_written_as_block_scalars() -> None:
    # `uses: >-` (and a `with:` whose values are all block scalars) once left no place to insert `token:`,
    # and the finding vanished.
    text = (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        "      - uses: >-\n          actions/checkout@v4\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: |-\n            0\n"
        "      - run: npx semantic-release\n        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"
    )
    assert _fixed(text) == (
        f"on: push\n{PAT}jobs:\n  release:\n    steps:\n"
        "      - uses: >-\n          actions/checkout@v4\n        with:\n          token: ${{ secrets.PAT_TOKEN }}\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: |-\n            0\n"
        "          token: ${{ secrets.PAT_TOKEN }}\n"
        "      - run: npx semantic-release\n        env:\n          GITHUB_TOKEN: ${{ secrets.PAT_TOKEN }}\n"
    )


# --- redundant-docker: deleting the duplicates and their README badges -------------------------------


@settings(FUZZ, max_examples=150)
@given(case=readme_cases())
def test_deleting_duplicates_removes_exactly_their_badges(case: ReadmeCase) -> None:
    check_readme_case(case)


def test_adjacent_badges_of_deleted_workflows_share_their_separator() -> None:
    # Each badge takes one space along; `A [docker] [docker]` made two removals claim the same space,
    # and applying the fixes raised EditConflict (a crash in `check --fix`).
    text = "A [![D](https://x/workflows/docker.yml/badge.svg)](u) ![E](https://x/workflows/docker.yml/badge.svg)\nB\n"
    first, second = text.index("[!["), text.index("![E")
    edits = [
        TextEdit("README.md", first, second, "", drop_blank_line=True),  # the badge and the space after it
        TextEdit("README.md", second - 1, text.index("\n"), "", drop_blank_line=True),  # the space before and the badge
    ]
    assert apply_text_edits(text, edits) == "A\nB\n"
    with pytest.raises(EditConflict):  # overlapping text (not a shared space) is still refused
        apply_text_edits(text, [TextEdit("README.md", 0, 5, "", True), TextEdit("README.md", 3, 8, "", True)])
