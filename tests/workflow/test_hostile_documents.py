"""Hostile workflow content at the parser and rules level: each is refused in one line, within a bound.

Bounds are asserted structurally (nodes composed, bytes allocated), never with a clock; every case runs
under a hang guard so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from migrator.analysis import images
from migrator.analysis.context import RepoContext
from migrator.checker import UNREADABLE_RULE, check_snapshot
from migrator.model import RepoFile, RepoSnapshot
from migrator.sandbox.generate import hostile_files, png_image
from migrator.workflow import document as d
from migrator.workflow.model import Step, build
from tests.bounds import HANG_GUARD_SECONDS, MEMORY_BOUND, MiB, guarded, peak_memory


@pytest.fixture
def composed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the nodes (and aliases) the composer visits: the structural measure of parsing work."""
    calls = [0]
    original = d._BoundedComposer.compose_node

    def counting(self: d._BoundedComposer, parent: Any, index: Any) -> Any:
        calls[0] += 1
        return original(self, parent, index)

    monkeypatch.setattr(d._BoundedComposer, "compose_node", counting)
    return calls


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the tokens the scanner fetches, lookahead included."""
    calls = [0]
    original = d._BoundedScanner.fetch_more_tokens

    def counting(self: d._BoundedScanner) -> Any:
        calls[0] += 1
        return original(self)

    monkeypatch.setattr(d._BoundedScanner, "fetch_more_tokens", counting)
    return calls


def workflow_text(kind: str, name: str) -> str:
    content = hostile_files(kind)[f".github/workflows/{name}"]
    assert isinstance(content, bytes)
    return content.decode()


def snapshot(files: dict[str, str | bytes]) -> RepoSnapshot:
    encoded = {p: RepoFile(p, c.encode() if isinstance(c, str) else c) for p, c in files.items()}
    return RepoSnapshot(name="acme/hostile", files=encoded, default_branch="main", pat_secret=None, skipped={})


ORDINARY = frozenset(hostile_files("huge")) - {".github/workflows/huge.yml"}


# --- alias bombs ---------------------------------------------------------------------------------


def test_billion_laughs_is_refused_while_composing_without_expanding(composed: list[int]) -> None:
    text = workflow_text("alias-bomb", "bomb.yml")  # 9 levels of 9 aliases: 9**9 copies of "lol"
    with peak_memory() as peak, pytest.raises(d.UnreadableFile, match=r"alias bomb") as refused:
        guarded(lambda: d.parse("bomb.yml", text))
    assert "\n" not in str(refused.value)
    assert composed[0] < 200  # the nodes and aliases written in the file; the expansion is never walked
    assert peak[0] < MEMORY_BOUND


def test_an_alias_inside_its_own_anchor_is_refused(composed: list[int]) -> None:
    for text in ("jobs: &jobs\n  loop: *jobs\n", "a: &a [x, {b: *a}]\n"):
        with pytest.raises(d.UnreadableFile, match=r"alias \*\w+ is inside its own anchor \(line \d+\)"):
            guarded(lambda text=text: d.parse("cycle.yml", text))
    assert composed[0] < 20


def _fan_out(copies: int, width: int) -> str:
    """One anchored scalar of `width` characters, aliased `copies` times."""
    return f"a: &a {'x' * width}\nb: [{', '.join(['*a'] * copies)}]\n"


def test_the_alias_bound_sits_exactly_at_max_alias_expansion() -> None:
    width = 999
    fits = d.MAX_ALIAS_EXPANSION // (1 + width)  # each alias would copy the scalar: 1 node + its characters
    d.parse("fits.yml", _fan_out(fits, width))
    with pytest.raises(d.UnreadableFile, match="alias bomb"):
        d.parse("over.yml", _fan_out(fits + 1, width))


def test_the_alias_bound_counts_what_aliases_add_not_the_file_itself() -> None:
    big_scalar = "x" * (d.MAX_ALIAS_EXPANSION + 10)
    doc = d.parse("plain.yml", f"a: {big_scalar}\nb: &b small\nc: *b\n")
    assert d.scalar(d.get(doc.root, "a")) == big_scalar
    assert d.scalar(d.get(doc.root, "c")) == "small"


def test_aliases_under_the_bound_are_followed_by_the_model_and_the_rules() -> None:
    """GitHub expands anchors, so the rules follow aliases; the bound is what keeps that walk small."""
    text = (
        "on: push\n"
        "x-step: &release {run: npx semantic-release, env: {GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}'}}\n"
        "x-job: &job {runs-on: ubuntu-latest, env: {GH_PAT: '${{ secrets.PAT_TOKEN }}'}, steps: [*release]}\n"
        "jobs: {one: *job, two: *job}\n"
    )
    workflow = build(d.parse("release.yml", text))
    assert [(job.job_id, len(job.steps)) for job in workflow.jobs] == [("one", 1), ("two", 1)]
    report = check_snapshot(snapshot({".github/workflows/release.yml": text}))
    assert {f.rule for f in report.findings} == {"token-mismatch"}


def test_the_worst_accepted_alias_expansion_stays_within_memory() -> None:
    """Steps aliased as many times as the bound allows: the model builds them all, and no more."""
    step = "{uses: docker/build-push-action@v6, with: {push: true, tags: '${{ steps.meta.outputs.tags }}'}}"
    copies = 8_000
    text = (
        f"on: {{release: {{types: [published]}}}}\nx: &s {step}\n"
        f"jobs:\n  docker:\n    steps: [{', '.join(['*s'] * copies)}]\n"
    )
    files = {".github/workflows/docker.yml": text, ".github/workflows/main.yml": "on: push\njobs: {}\n"}
    with peak_memory() as peak:
        ctx = RepoContext(snapshot(files))
        workflow = guarded(lambda: ctx.workflow(".github/workflows/docker.yml"))
        assert workflow is not None
        found = guarded(lambda: images.publisher(workflow))
    assert len(found.pushes) == copies
    assert found.images() == frozenset()  # the metadata step is missing: unknown, never an image name
    assert all(push.unresolved for push in found.pushes)
    assert peak[0] < MEMORY_BOUND


def test_image_resolution_is_linear_in_the_steps_of_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each build-push step looks up its metadata step by id: an index, not a scan of the whole job."""
    calls = [0]
    original = Step.action

    def counting(self: Step) -> str | None:
        calls[0] += 1
        return original(self)

    monkeypatch.setattr(Step, "action", counting)
    step = "{id: meta, uses: docker/build-push-action@v6, with: {push: true, tags: '${{ steps.meta.outputs.tags }}'}}"
    copies = 2_000
    text = f"on: push\nx: &s {step}\njobs:\n  docker:\n    steps: [{', '.join(['*s'] * copies)}]\n"
    found = guarded(lambda: images.publisher(build(d.parse("docker.yml", text))))
    assert len(found.pushes) == copies
    assert calls[0] <= 3 * copies  # a scan per step would be copies**2


# --- deep nesting ------------------------------------------------------------------------------


DEEP = {
    "[ x 10,000": "jobs: " + "[" * 10_000 + "]" * 10_000,
    "[ x 100,000": "jobs: " + "[" * 100_000 + "]" * 100_000,
    "{ x 10,000": "jobs: " + "{a: " * 10_000 + "x" + "}" * 10_000,
    "{ x 100,000 unclosed": "jobs: " + "{" * 100_000,
    "block sequences x 100,000": workflow_text("deep-block", "deep-seq.yml"),
    "block mappings x 1,400 (1 MB)": workflow_text("deep-block", "deep-map.yml"),
    "mixed flow x 10,000": "jobs: " + "[{a: " * 10_000,
}


@pytest.mark.parametrize("text", list(DEEP.values()), ids=list(DEEP))
def test_deep_nesting_is_refused_at_max_nesting(text: str, composed: list[int], scanned: list[int]) -> None:
    with peak_memory() as peak, pytest.raises(d.UnreadableFile, match=rf"nested deeper than {d.MAX_NESTING} levels"):
        guarded(lambda: d.parse("deep.yml", text))
    assert composed[0] <= 2 * d.MAX_NESTING + 2  # composition stopped at the bound: no recursion to the bottom
    assert scanned[0] <= 4 * d.MAX_NESTING + 20  # so did the scanner's lookahead (up to 1,024 `[` otherwise)
    assert peak[0] < MEMORY_BOUND


def test_the_nesting_bound_sits_exactly_at_max_nesting() -> None:
    depth = d.MAX_NESTING - 1  # the root mapping is a level too
    doc = d.parse("ok.yml", "jobs: " + "[" * depth + "]" * depth + "\n")
    assert d.get(doc.root, "jobs") is not None
    with pytest.raises(d.UnreadableFile, match="nested deeper"):
        d.parse("deep.yml", "jobs: " + "[" * (depth + 1) + "]" * (depth + 1) + "\n")


def test_deep_nesting_cannot_crash_even_with_a_huge_recursion_limit() -> None:
    """With the limit raised, a composer without its own bound would recurse 100,000 levels deep."""
    script = (
        "import sys; sys.setrecursionlimit(1_000_000)\n"
        "from migrator.workflow import document as d\n"
        "try:\n"
        "    d.parse('deep.yml', 'jobs: ' + '[' * 100_000 + ']' * 100_000)\n"
        "except d.UnreadableFile as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"YAML nested deeper than {d.MAX_NESTING} levels (line 1)"


# --- huge, binary and invalid UTF-8 content ------------------------------------------------------


def test_a_50_mb_file_is_refused_before_it_is_decoded() -> None:
    content = hostile_files("huge")[".github/workflows/huge.yml"]
    assert isinstance(content, bytes) and len(content) > 50 * 1_000_000
    with peak_memory() as peak, pytest.raises(d.UnreadableFile, match=r"over the 1,000,000-byte limit"):
        d.decode("huge.yml", content)
    assert peak[0] < MiB  # decoding it would allocate 50 MB


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (hostile_files("binary")[".github/workflows/nul.yml"], r"binary content \(NUL bytes\)"),
        (png_image(), r"binary content \(NUL bytes\)"),
        (b"\x89PNG\r\n\x1a\n" + b"\xff" * 64, r"not valid UTF-8 at byte 0"),  # binary without a NUL
        (hostile_files("invalid-utf8")[".github/workflows/latin1.yml"], r"not valid UTF-8 at byte \d+"),
        (hostile_files("invalid-utf8")[".github/workflows/late-invalid.yml"], r"not valid UTF-8 at byte 10\d\d\d"),
        ("on: push\n\ud800\n".encode("utf-8", errors="surrogatepass"), r"not valid UTF-8 at byte 9"),
    ],
    ids=["nul-bytes", "png", "png-without-nul", "latin-1", "late-invalid-byte", "lone-surrogate"],
)
def test_binary_and_invalid_utf8_are_unreadable_in_one_line(content: object, problem: str) -> None:
    assert isinstance(content, bytes)
    with pytest.raises(d.UnreadableFile, match=problem) as refused:
        d.decode("w.yml", content)
    assert "\n" not in str(refused.value)


def test_every_hostile_document_is_an_unreadable_workflow_warning_next_to_normal_findings() -> None:
    files: dict[str, str | bytes] = {}
    hostile: list[str] = []
    for kind in ("alias-bomb", "deep-flow", "deep-block", "huge", "binary", "invalid-utf8"):
        for path, content in hostile_files(kind).items():
            if isinstance(content, bytes) and path not in ORDINARY:
                files[path.replace("workflows/", f"workflows/{kind}-")] = content
                hostile.append(path.replace("workflows/", f"workflows/{kind}-"))
            elif isinstance(content, bytes):
                files[path] = content
    repo = snapshot(files)
    with peak_memory() as peak:  # the 50 MB file is already in memory; only what checking adds counts
        report = guarded(lambda: check_snapshot(repo))
    found = {f.location.path: f.message for f in report.findings if f.rule == UNREADABLE_RULE}
    assert sorted(found) == sorted(hostile) and len(hostile) == 11
    assert all(message.startswith("not analysed: ") and "\n" not in message for message in found.values())
    fixed = {f.location.path for f in report.findings if f.rule == "token-mismatch"}
    assert fixed == {".github/workflows/release.yml"}  # the ordinary workflow next to them is still checked
    assert peak[0] < MEMORY_BOUND


# --- env values that refer to each other (the rules' own expansion) -----------------------------


def _docker_workflow(env: str, tags: str, run: str = "echo") -> str:
    return (
        "on: {release: {types: [published]}}\n"
        f"env: {{{env}}}\n"
        "jobs:\n  docker:\n    steps:\n"
        f"      - {{uses: docker/build-push-action@v6, with: {{push: true, tags: '{tags}'}}}}\n"
        f"      - run: {run}\n"
    )


def test_env_values_referring_to_each_other_do_not_recurse_forever() -> None:
    text = _docker_workflow(
        "A: '${{ env.B }}', B: '${{ env.A }}', C: 'x$C'", "ghcr.io/${{ env.A }}:1", "docker push $C"
    )
    workflow = build(d.parse("docker.yml", text))
    found = guarded(lambda: images.publisher(workflow))  # a RecursionError before the bound
    assert len(found.pushes) == 2


def reference(name: str) -> str:
    return "${{ env." + name + " }}"


def test_env_values_that_multiply_stop_at_the_substitution_budget() -> None:
    levels = ["A0: x"] + [f"A{i}: '{reference(f'A{i - 1}') * 40}'" for i in range(1, 9)]  # 40**8 x's
    workflow = build(d.parse("docker.yml", _docker_workflow(", ".join(levels), "ghcr.io/${{ env.A8 }}:1")))
    job = workflow.jobs[0]
    budget = images.Budget()
    with peak_memory() as peak:
        resolved = guarded(lambda: images.resolve("${{ env.A8 }}", workflow, job, budget=budget))
    assert len(resolved) <= images._RESOLVE_BUDGET + len("${{ env.A8 }}")
    assert budget.chars >= 0
    assert peak[0] < MEMORY_BOUND


# --- locations -----------------------------------------------------------------------------------


def test_line_and_column_are_computed_once_per_document_not_per_lookup() -> None:
    text = "a\r\nb\n\n  c: d\n" * 1000 + "x"
    doc = d.Document("w.yml", text, None)
    for index in [*range(60), *range(len(text) - 30, len(text) + 1)]:
        expected_line = text.count("\n", 0, index) + 1
        expected_column = index - (text.rfind("\n", 0, index) + 1) + 1
        assert doc.line_col(index) == (expected_line, expected_column)
    assert len(doc._line_starts) == text.count("\n") + 1  # one table, built once, then bisected
