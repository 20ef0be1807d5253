"""Workflow files in many YAML styles, each with the token-mismatch fix it should get.

The generator first builds a small model of a workflow: mappings, sequences, and scalars made of
text and `${{ <GITHUB_TOKEN> }}` references (`Tok`). From the rule's specification (README, "What it
fixes") it then decides which references the fix must rewrite and which checkouts must gain a
`token:`. Finally it renders the model as YAML text in a drawn style (indentation, flow or block
collections, quoting, comments, CRLF, tabs after `key:`, `---`, a BOM...) and records where every
reference to rewrite landed in the text.

Tests compare the fixed text with the model (what a YAML parser must read, which bytes may change),
never with the implementation's own view of the file.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from migrator.checker import apply_fixes, check_snapshot
from migrator.model import Fix, RepoSnapshot, Safety, TextEdit
from migrator.rules import redundant_docker, token_mismatch
from tests.golden import golden_tree

T = TypeVar("T")
Draw: TypeAlias = Callable[[st.SearchStrategy[T]], T]

PATH = ".github/workflows/release.yml"
PAT_SECRETS = ("PAT_TOKEN", "RELEASE_PAT", "ORG_RELEASE_PAT", "BOT_PAT", "GH_PAT")
PAT_ENV_NAMES = ("GH_PAT", "RELEASE_PAT", "GITHUB_PAT", "GH_RELEASE_TOKEN", "PAT")
TOKEN_ENV_NAMES = ("GH_TOKEN", "GITHUB_TOKEN")
TOKEN_INPUTS = ("github_token", "github-token")
GITHUB_TOKEN_IDENTS = (
    "secrets.GITHUB_TOKEN",
    "secrets.GITHUB_TOKEN",
    "secrets.GITHUB_TOKEN",
    "secrets.github_token",
    "github.token",
    "secrets['GITHUB_TOKEN']",
    'secrets["GITHUB_TOKEN"]',
)
COMMENTS = (
    "keep me",
    "uses ${{ secrets.GITHUB_TOKEN }} on purpose",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "x-access-token:${{secrets.GITHUB_TOKEN}}@github.com",
    "ünïcödé 🚀",
    "",
)


# --- the model -------------------------------------------------------------------------


@dataclass(eq=False)
class Tok:
    """`${{<left><ident><right>}}` naming GITHUB_TOKEN. `site`: the fix must rewrite `ident`."""

    ident: str
    left: str
    right: str
    site: bool = False

    def value(self, pat: str | None) -> str:
        ident = f"secrets.{pat}" if pat is not None and self.site else self.ident
        return "${{" + self.left + ident + self.right + "}}"


@dataclass(eq=False)
class Break:
    """A line break inside a single-line scalar (YAML folds it back into one space)."""


Part: TypeAlias = str | Tok | Break


@dataclass(eq=False)
class Url:
    """An x-access-token URL in a run script: `target` is a token reference or an env var's name."""

    target: Tok | str
    live: bool  # False on a commented-out shell line


@dataclass(eq=False)
class Scalar:
    parts: tuple[Part, ...] = ()
    native: int | bool | None = None  # written plain: 0, 20, true
    pat: bool = False  # exactly `${{ secrets.<PAT> }}`
    urls: tuple[Url, ...] = ()

    def value(self, pat: str | None) -> str | int | bool:
        if self.native is not None:
            return self.native
        return "".join(_part_value(p, pat) for p in self.parts)

    def whole_tok(self) -> Tok | None:
        return self.parts[0] if len(self.parts) == 1 and isinstance(self.parts[0], Tok) else None


def _part_value(part: Part, pat: str | None) -> str:
    if isinstance(part, Tok):
        return part.value(pat)
    return " " if isinstance(part, Break) else part


@dataclass(eq=False)
class Map:
    entries: list[tuple[str, Node]]
    adds: str | None = None  # "token": the fix adds `token:` here; "with": it adds `with: {token:}`
    region: str | None = None  # the renderer records where this mapping's text lies

    def get(self, key: str) -> Node | None:
        return next((value for k, value in reversed(self.entries) if k == key), None)

    def get_map(self, key: str) -> Map | None:
        value = self.get(key)
        return value if isinstance(value, Map) else None

    def get_scalar(self, key: str) -> Scalar | None:
        value = self.get(key)
        return value if isinstance(value, Scalar) else None


@dataclass(eq=False)
class Seq:
    items: list[Node]


Node: TypeAlias = Scalar | Map | Seq


class Inserted:
    """The value of an added `token:`: the PAT expression, spaced either way."""

    def __init__(self, pat: str) -> None:
        self.forms = {"${{ secrets." + pat + " }}", "${{secrets." + pat + "}}"}

    def __eq__(self, other: object) -> bool:
        return other in self.forms or (isinstance(other, Inserted) and other.forms == self.forms)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Inserted({' | '.join(sorted(self.forms))})"


def expected(node: Node, pat: str | None) -> Any:
    """What a YAML parser reads from the rendered model; with `pat`, after the fix."""
    if isinstance(node, Scalar):
        return node.value(pat)
    if isinstance(node, Seq):
        return [expected(item, pat) for item in node.items]
    out = {key: expected(value, pat) for key, value in node.entries}
    if pat is not None and node.adds == "token":
        out["token"] = Inserted(pat)
    elif pat is not None and node.adds == "with":
        out["with"] = {"token": Inserted(pat)}
    return out


# --- building a workflow ------------------------------------------------------------------


class Builder:
    """Draws the workflow model and decides, from the rule's specification, what the fix must change."""

    def __init__(self, draw: Draw[Any], pat: str, spacing: str) -> None:
        self.draw = draw
        self.pat = pat
        self.spacing = spacing

    def pick(self, *options: T) -> T:
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return bool(self.draw(st.integers(0, 99)) < p * 100)

    def pad(self) -> tuple[str, str]:
        if self.spacing == "spaced":
            return " ", " "
        if self.spacing == "tight":
            return "", ""
        return self.pick(" ", "", "  "), self.pick(" ", "", "  ")

    def expr(self, inner: str) -> str:
        left, right = self.pad()
        return "${{" + left + inner + right + "}}"

    def tok(self) -> Tok:
        left, right = self.pad()
        return Tok(self.pick(*GITHUB_TOKEN_IDENTS), left, right)

    def text(self, *parts: Part) -> Scalar:
        return Scalar(tuple(parts))

    def pat_value(self) -> Scalar:
        return Scalar((self.expr(f"secrets.{self.pat}"),), pat=True)

    def token_value(self, *kinds: str) -> Scalar | None:
        kind = self.pick(*kinds)
        if kind == "ref":
            return Scalar((self.tok(),))
        if kind == "pat":
            return self.pat_value()
        if kind == "fallback":
            return self.text(self.expr(f"secrets.{self.pat} || secrets.GITHUB_TOKEN"))
        if kind == "cond":
            return self.text(self.expr("github.event_name == 'push' && secrets.GITHUB_TOKEN || ''"))
        return None

    def shuffled(self, items: list[T]) -> list[T]:
        return list(self.draw(st.permutations(items))) if len(items) > 1 else items

    # --- steps

    def checkout(self) -> Map:
        with_: list[tuple[str, Node]] = []
        if self.chance(0.5):
            with_.append(("fetch-depth", Scalar(native=0)))
        token = self.token_value("absent", "absent", "absent", "ref", "ref", "pat")
        if token is not None:
            with_.append(("token", token))
        repository = self.pick(None, None, None, "self", "other")
        if repository == "self":
            with_.append(("repository", self.text(self.expr("github.repository"))))
        elif repository == "other":
            with_.append(("repository", self.text("acme/other-repo")))
        persist = self.pick(None, None, None, "true", "false", "'false'")
        if persist is not None:
            value = Scalar(native=persist == "true") if persist in {"true", "false"} else self.text("false")
            with_.append(("persist-credentials", value))
        uses = self.pick("actions/checkout@v4", "actions/checkout@v4.2.2", "actions/checkout@11bd71901bbe5b1630ce")
        entries: list[tuple[str, Node]] = [("uses", self.text(uses))]
        if self.chance(0.4):
            entries.insert(self.pick(0, 1), ("name", self.text(self.pick("Checkout", "Check out ✓"))))
        if with_:
            entries.append(("with", Map(self.shuffled(with_))))
        return Map(entries)

    def setup_node(self) -> Map:
        entries: list[tuple[str, Node]] = [("uses", self.text("actions/setup-node@v4"))]
        entries.append(("with", Map([("node-version", self.pick(Scalar(native=20), self.text("20")))])))
        if self.chance(0.5):  # not a release step: its env is never a site
            entries.append(("env", Map([("GITHUB_TOKEN", Scalar((self.tok(),)))])))
        return Map(entries)

    def docker_login(self) -> Map:
        with_: list[tuple[str, Node]] = [
            ("registry", self.text("ghcr.io")),
            ("username", self.text(self.expr("github.actor"))),
            ("password", Scalar((self.tok(),))),
        ]
        return Map([("uses", self.text("docker/login-action@v3")), ("with", Map(with_))])

    def gh_cli(self) -> Map:
        line = self.pick(
            ("echo ", "TOK", " | gh auth login --with-token"),
            ('curl -H "Authorization: token ', "TOK", '" https://api.github.com/user'),
        )
        parts = tuple(self.tok() if p == "TOK" else p for p in line)
        return Map([("name", self.text("Use the API")), ("run", Scalar(parts))])

    def configure(self, var: str | None = None) -> tuple[Map, list[list[Part]], list[Url]]:
        """A step setting the push URL (from env var `var`, if given); returns its lines for reuse."""
        lines: list[list[Part]] = []
        urls: list[Url] = []
        env: list[tuple[str, Node]] = []
        if self.chance(0.5):
            lines.append(['git config --global user.name "release-bot"'])
        if self.chance(0.3):
            indent = self.pick("", "  ")
            tok = self.tok()
            lines.append([f"{indent}# git push https://x-access-token:", tok, "@github.com/acme/old.git"])
            urls.append(Url(tok, live=False))
        mode = "var" if var else self.pick("direct", "direct", "var", "var", "none")
        head = "git remote set-url origin https://x-access-token:"
        tail: list[Part] = ["@github.com/", self.expr("github.repository"), ".git"]
        if mode == "direct":
            tok = self.tok()
            lines.append([head, tok, *tail])
            urls.append(Url(tok, live=True))
        elif mode == "var":
            name = var or self.pick("GH_TOKEN", "GITHUB_TOKEN", "GIT_TOKEN", "TOKEN")
            lines.append([head + self.pick(f"${name}", "${" + name + "}"), *tail])
            urls.append(Url(name, live=True))
            value = None if var else self.token_value("ref", "pat", "absent", "absent")  # absent: the job's env
            if value is not None:
                env.append((name, value))
        if self.chance(0.2):
            lines.append(["git push --follow-tags"])
        if not lines:
            lines.append(["git status"])
        entries: list[tuple[str, Node]] = [("name", self.text("Configure git"))]
        entries.append(("run", _script(lines, urls)))
        if env:
            entries.append(("env", Map(env)))
        return Map(entries), lines, urls

    def release_step(self, extra_lines: list[list[Part]], extra_urls: list[Url], *, token_env: bool) -> Map:
        kind = self.pick("run", "run", "run", "cycjimmy", "python")
        entries: list[tuple[str, Node]] = []
        if self.chance(0.5):
            entries.append(("name", self.text(self.pick("Release", "semantic-release"))))
        if self.chance(0.3):
            entries.append(("id", self.text("semantic")))
        if kind == "run":
            command = self.pick(
                "npx semantic-release",
                "npx --yes semantic-release@24",
                "yarn semantic-release",
                "pnpm dlx semantic-release",
            )
            lines = [*extra_lines, [command]]
            if self.chance(0.3):
                lines.insert(0, ["npm ci"])
            entries.append(("run", _script(lines, extra_urls)))
        else:
            action = (
                "cycjimmy/semantic-release-action@v4"
                if kind == "cycjimmy"
                else "python-semantic-release/python-semantic-release@v9.8.0"
            )
            entries.append(("uses", self.text(action)))
            with_: list[tuple[str, Node]] = []
            if kind == "cycjimmy" and self.chance(0.5):
                with_.append(("semantic_version", Scalar(native=24)))
            token = self.token_value("absent", "ref", "ref", "pat")
            if token is not None:
                with_.append((self.pick(*TOKEN_INPUTS), token))
            if with_:
                entries.append(("with", Map(with_)))
        env: list[tuple[str, Node]] = []
        for name in self.shuffled(list(TOKEN_ENV_NAMES)) if token_env else ():
            value = self.token_value("absent", "ref", "ref", "ref", "pat", "fallback", "cond")
            if value is not None:
                env.append((name, value))
        if self.chance(0.4):
            env.append(("NPM_TOKEN", self.text(self.expr("secrets.NPM_TOKEN"))))
        if env:
            entries.append(("env", Map(env)))
        return Map(self.shuffled(entries) if self.chance(0.3) else entries)

    # --- jobs

    def release_job(self) -> tuple[Map, list[Map], list[Map]]:
        # One shape gets a nudge, as random draws rarely line it up: the release reads its token from
        # the job's env, whose variable also feeds a push URL, after a checkout that persists GITHUB_TOKEN.
        shared = self.pick(*TOKEN_ENV_NAMES) if self.chance(0.1) else None
        steps: list[Map] = [self.checkout() for _ in range(self.pick(0, 1, 1, 1, 2))]
        if shared:
            steps.insert(0, Map([("uses", self.text("actions/checkout@v4"))]))
        if self.chance(0.4):
            steps.append(self.setup_node())
        extra_lines: list[list[Part]] = []
        extra_urls: list[Url] = []
        if shared or self.chance(0.6):
            step, lines, urls = self.configure(shared)
            if self.chance(0.3):  # the push URL is set in the release script itself
                extra_lines, extra_urls = lines, urls
            else:
                steps.append(step)
        if self.chance(0.3):
            steps.append(self.docker_login())
        if self.chance(0.2):
            steps.append(self.gh_cli())
        # where the release reads its token: its own env, the job's, or both (the step's wins)
        home = "job" if shared else self.pick("step", "step", "job", "both")
        release = self.release_step(extra_lines, extra_urls, token_env=home != "job")
        steps = self.shuffled([*steps, release]) if self.chance(0.5) else [*steps, release]
        if self.chance(0.2):
            steps.append(self.checkout())  # after the release: explicit tokens are sites, no token added
        job: list[tuple[str, Node]] = [("runs-on", self.text("ubuntu-latest"))]
        if self.chance(0.3):
            job.append(("if", self.text("github.ref == 'refs/heads/main'")))
        if self.chance(0.3):
            job.append(("permissions", Map([("contents", self.text("write")), ("issues", self.text("write"))])))
        env: list[tuple[str, Node]] = []
        for name in (*TOKEN_ENV_NAMES, "GIT_TOKEN", "TOKEN"):
            if shared:
                value = Scalar((self.tok(),)) if name == shared else None
            elif name in TOKEN_ENV_NAMES and home != "step":
                value = self.token_value("absent", "ref", "ref", "ref", "pat", "fallback")
            else:
                value = self.token_value("absent", "absent", "absent", "absent", "ref", "pat")
            if value is not None:
                env.append((name, value))
        if self.chance(0.3):
            env.append((self.pick(*PAT_ENV_NAMES), self.pat_value()))
        if env:
            job.append(("env", Map(self.shuffled(env))))
        job.append(("steps", Seq(list(steps))))
        return Map(job, region="release"), steps, [release]

    def test_job(self) -> Map:
        steps: list[Node] = []
        checkout = self.checkout()
        steps.append(checkout)
        test: list[tuple[str, Node]] = [("run", self.text("npm test"))]
        if self.chance(0.5):
            test.append(("env", Map([("GITHUB_TOKEN", Scalar((self.tok(),)))])))
        steps.append(Map(test))
        if self.chance(0.5):
            tok = self.tok()
            line: list[Part] = ["git push https://x-access-token:", tok, "@github.com/acme/x.git HEAD:gh-pages"]
            steps.append(Map([("run", _script([line], [Url(tok, live=True)]))]))
        if self.chance(0.5):
            dry: list[tuple[str, Node]] = [("run", self.text("npx semantic-release --dry-run"))]
            dry.append(("env", Map([("GITHUB_TOKEN", Scalar((self.tok(),)))])))
            steps.append(Map(dry))
        job: list[tuple[str, Node]] = [("runs-on", self.text("ubuntu-latest"))]
        env: list[tuple[str, Node]] = []
        if self.chance(0.3):
            env.append(("GITHUB_TOKEN", Scalar((self.tok(),))))
        if self.chance(0.3):
            env.append((self.pick(*PAT_ENV_NAMES), self.pat_value()))
        if env:
            job.append(("env", Map(env)))
        job.append(("steps", Seq(steps)))
        return Map(job, region="test")

    def docker_job(self) -> Map:
        push = Map(
            [
                ("uses", self.text("docker/build-push-action@v6")),
                ("with", Map([("push", Scalar(native=True)), ("tags", self.text("ghcr.io/acme/app:latest"))])),
            ]
        )
        steps = Seq([self.docker_login(), push])
        return Map([("runs-on", self.text("ubuntu-latest")), ("steps", steps)], region="docker")

    def workflow(self) -> tuple[Map, Map, list[Map], list[Map]]:
        root: list[tuple[str, Node]] = [("name", self.text(self.pick("release", "CI/CD", "Rélease 🚀")))]
        on = self.pick("push", "list", "branches", "two")
        if on == "push":
            trigger: Node = self.text("push")
        elif on == "list":
            trigger = Seq([self.text("push"), self.text("workflow_dispatch")])
        else:
            push = Map([("branches", Seq([self.text("main")]))])
            trigger = Map([("push", push)] + ([("workflow_dispatch", Map([]))] if on == "two" else []))
        root.append(("on", trigger))
        env: list[tuple[str, Node]] = []
        if self.chance(0.3):
            env.append(("NODE_VERSION", self.text("20")))
        release, steps, release_steps = self.release_job()
        jobs: list[tuple[str, Node]] = [(self.pick("release", "semantic-release", "publish"), release)]
        if self.chance(0.6):
            jobs.append(("test", self.test_job()))
        if self.chance(0.4):
            jobs.append(("docker", self.docker_job()))
        jobs = self.shuffled(jobs)
        declared = _declares_pat(release) or any(_declares_pat(job) for _, job in jobs)
        if not declared or self.chance(0.5):
            env.append((self.pick(*PAT_ENV_NAMES), self.pat_value()))
        if env:
            root.append(("env", Map(self.shuffled(env))))
        root.append(("jobs", Map(jobs)))
        return Map(root), release, steps, release_steps


def _script(lines: list[list[Part]], urls: list[Url]) -> Scalar:
    parts: list[Part] = []
    for line in lines:
        parts.extend(line)
        if len(lines) > 1:
            parts.append("\n")
    return Scalar(tuple(_merge(parts)), urls=tuple(urls))


def _merge(parts: list[Part]) -> Iterator[Part]:
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        if text:
            yield text
            text = ""
        yield part
    if text:
        yield text


def _declares_pat(node: Node) -> bool:
    """The rule's PAT evidence used here: a PAT in an env var named like a token (GH_TOKEN, GH_PAT...)."""
    if isinstance(node, Scalar):
        return False
    if isinstance(node, Seq):
        return any(_declares_pat(item) for item in node.items)
    env = node.get_map("env")
    names = (*TOKEN_ENV_NAMES, *PAT_ENV_NAMES)
    if env is not None and any(isinstance(v, Scalar) and v.pat and k in names for k, v in env.entries):
        return True
    return any(_declares_pat(value) for key, value in node.entries if key != "env")


# --- the rule's specification, on the model -------------------------------------------------------


def decide_sites(job: Map, steps: list[Map], release_steps: list[Map]) -> None:
    """Mark the references the fix must rewrite, and the checkouts that must gain a `token:`."""

    def env(owner: Map, name: str) -> Scalar | None:
        mapping = owner.get_map("env")
        return mapping.get_scalar(name) if mapping is not None else None

    def inputs(step: Map, key: str) -> Scalar | None:
        with_ = step.get_map("with")
        return with_.get_scalar(key) if with_ is not None else None

    def mark(value: Scalar | None) -> None:
        tok = value.whole_tok() if value is not None else None
        if tok is not None:
            tok.site = True

    for step in steps:
        if _is_checkout(step) and _same_repo(step):
            mark(inputs(step, "token"))
        run = step.get_scalar("run")
        for url in run.urls if run is not None else ():
            if not url.live:
                continue
            if isinstance(url.target, Tok):
                url.target.site = True
            else:
                mark(env(step, url.target) or env(job, url.target))

    def gh_token_pat(step: Map) -> bool:
        value = env(step, "GH_TOKEN") or env(job, "GH_TOKEN")
        return value is not None and value.pat

    # semantic-release takes GH_TOKEN before GITHUB_TOKEN: with a PAT there, GITHUB_TOKEN beside it is no site.
    names = ("GH_TOKEN",) if all(gh_token_pat(step) for step in release_steps) else TOKEN_ENV_NAMES
    for step in release_steps:
        for name in names:
            mark(env(step, name))
        for key in TOKEN_INPUTS:
            mark(inputs(step, key))
    for name in names:
        if not all(env(step, name) is not None for step in release_steps):
            mark(env(job, name))

    def pat_after(value: Scalar | None) -> bool:
        tok = value.whole_tok() if value is not None else None
        return value is not None and (value.pat or (tok is not None and tok.site))

    pushes_with_pat = any(pat_after(env(owner, name)) for owner in [*release_steps, job] for name in TOKEN_ENV_NAMES)
    pushes_with_pat |= any(pat_after(inputs(step, key)) for step in release_steps for key in TOKEN_INPUTS)
    if not pushes_with_pat:
        return
    last = max(steps.index(step) for step in release_steps)
    for step in steps[:last]:
        with_ = step.get_map("with")
        persist = with_.get_scalar("persist-credentials") if with_ is not None else None
        off = persist is not None and str(persist.value(None)).lower() == "false"
        if not _is_checkout(step) or not _same_repo(step) or off or inputs(step, "token") is not None:
            continue
        if with_ is not None:
            with_.adds = "token"
        else:
            step.adds = "with"


def _is_checkout(step: Map) -> bool:
    uses = step.get_scalar("uses")
    return uses is not None and str(uses.value(None)).startswith("actions/checkout@")


def _same_repo(step: Map) -> bool:
    with_ = step.get_map("with")
    repo = with_.get_scalar("repository") if with_ is not None else None
    return repo is None or str(repo.value(None)).replace(" ", "") == "${{github.repository}}"


# --- rendering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    indent: int  # 2 or 4
    seq_offset: int  # where `-` goes under its key: 0 (indentless) or `indent`
    dash_pad: int  # spaces after `-`
    newline: str
    bom: bool
    doc_start: bool
    comments: float  # chance of a comment at each place one may go
    tabs: float  # chance of a tab after `key:`
    flow: float  # chance a collection is written in flow style
    quote: float  # chance a scalar is quoted even when plain would do
    wrap: float  # chance a long single-line scalar is folded over two lines
    block: float  # chance a single-line value is written as a `>-` or `|-` block scalar
    colon_space: float  # chance of `key :` instead of `key:`
    doc_end: bool  # `...` after the document
    final_newline: bool


@st.composite
def styles(draw: Draw[Any]) -> Style:
    indent = draw(st.sampled_from((2, 4)))
    return Style(
        indent=indent,
        seq_offset=draw(st.sampled_from((0, indent))),
        dash_pad=draw(st.sampled_from((1, indent - 1, 3))),
        newline=draw(st.sampled_from(("\n", "\n", "\r\n"))),
        bom=draw(st.sampled_from((False, False, False, True))),
        doc_start=draw(st.booleans()),
        comments=draw(st.sampled_from((0.0, 0.15, 0.4))),
        tabs=draw(st.sampled_from((0.0, 0.0, 0.3))),
        flow=draw(st.sampled_from((0.0, 0.15, 0.4))),
        quote=draw(st.sampled_from((0.0, 0.3, 0.7))),
        wrap=draw(st.sampled_from((0.0, 0.0, 0.3))),
        block=draw(st.sampled_from((0.0, 0.0, 0.2))),
        colon_space=draw(st.sampled_from((0.0, 0.0, 0.0, 0.2))),
        doc_end=draw(st.sampled_from((False, False, False, True))),
        final_newline=draw(st.sampled_from((True, True, True, False))),
    )


_NOT_A_STRING = re.compile(
    r"(?i)[-+]?(?:\.?[0-9][0-9_.:eEoOxXbB+-]*|\.inf|\.nan)|true|false|yes|no|on|off|y|n|null|~|=|<<"
)


def plain_ok(value: str, *, flow: bool) -> bool:
    """Conservatively: would this string survive as a plain scalar, and read back as a string?"""
    if not value or value != value.strip(" ") or any(c in value for c in "\n\t\r"):
        return False
    if value[0] in "-?:,[]{}#&*!|>'\"%@`" or ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and any(c in value for c in ",[]{}:"):
        return False
    return not _NOT_A_STRING.fullmatch(value)


def _escape_double(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def _escape_single(text: str) -> str:
    return text.replace("'", "''")


@dataclass
class Renderer:
    draw: Draw[Any]
    style: Style
    out: list[str] = field(default_factory=list)
    pos: int = 0
    sites: list[tuple[int, int]] = field(default_factory=list)
    regions: dict[str, tuple[int, int]] = field(default_factory=dict)
    features: Counter[str] = field(default_factory=Counter)
    block_scalar_end: int = -1  # where the last block scalar ended: its final line break is part of it

    def chance(self, p: float) -> bool:
        return p > 0 and bool(self.draw(st.integers(0, 99)) < p * 100)

    def pick(self, *options: T) -> T:
        return self.draw(st.sampled_from(options))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.pos += len(text)

    @property
    def nl(self) -> str:
        return self.style.newline

    def render(self, root: Map) -> str:
        if self.style.bom:
            self.emit("\ufeff")
            self.features["bom"] += 1
        if self.chance(self.style.comments):
            self.comment_line(0)
        if self.style.doc_start:
            self.emit("---")
            if self.chance(self.style.comments):
                self.trailing_comment()
            self.emit(self.nl)
            self.features["doc-start"] += 1
        self.block_map(root, 0, continued=False)
        if self.chance(self.style.comments):
            self.comment_line(0)
        if self.style.doc_end:
            self.emit("..." + self.nl)
            self.features["doc-end"] += 1
        if not self.style.final_newline and self.pos != self.block_scalar_end:
            self.out[-1] = self.out[-1].removesuffix(self.nl)
            self.features["no-final-newline"] += 1
        if self.nl == "\r\n":
            self.features["crlf"] += 1
        if self.style.indent == 4:
            self.features["indent-4"] += 1
        if self.style.seq_offset == 0:
            self.features["indentless-seq"] += 1
        return "".join(self.out)

    # --- pieces

    def comment_line(self, indent: int) -> None:
        column = self.pick(indent, 0)
        text = self.pick(*COMMENTS)
        self.emit(" " * column + "#" + (" " + text if text else "") + self.nl)
        self.features["comment"] += 1

    def trailing_comment(self) -> None:
        gap = self.pick(" ", "  ", "\t")
        text = self.pick(*COMMENTS)
        self.emit(gap + "#" + (" " + text if text else ""))
        self.features["trailing-comment"] += 1
        if gap == "\t":
            self.features["tab"] += 1

    def line_end(self) -> None:
        if self.chance(self.style.comments):
            self.trailing_comment()
        self.emit(self.nl)

    def separator(self) -> None:
        """After `key:`, before an inline value."""
        if self.chance(self.style.tabs):
            self.emit("\t")
            self.features["tab"] += 1
        else:
            self.emit(self.pick(" ", " ", " ", "  "))

    def colon(self) -> None:
        if self.chance(self.style.colon_space):
            self.emit(" :")
            self.features["space-before-colon"] += 1
        else:
            self.emit(":")

    def key(self, name: str, *, flow: bool) -> None:
        wanted = self.pick("plain", "plain", "plain", "single", "double")
        if name == "on" and wanted != "plain":
            self.features["quoted-on"] += 1
        if wanted == "plain" and (name == "on" or plain_ok(name, flow=flow)):
            self.emit(name)
        elif wanted == "single":
            self.emit(f"'{_escape_single(name)}'")
        else:
            self.emit(f'"{_escape_double(name)}"')

    def open_region(self, node: Map) -> tuple[str, int] | None:
        return (node.region, self.pos) if node.region else None

    def close_region(self, opened: tuple[str, int] | None) -> None:
        if opened is not None:
            self.regions[opened[0]] = (opened[1], self.pos)

    # --- scalars

    def scalar(self, node: Scalar, *, flow: bool, indent: int) -> None:
        if node.native is not None:
            self.emit(str(node.native).lower() if isinstance(node.native, bool) else str(node.native))
            return
        value = str(node.value(None))
        parts = node.parts
        multiline = "\n" in value
        if not multiline and not flow and self.chance(self.style.wrap):
            parts = _wrapped(parts, self.draw)
            if parts is not node.parts:
                self.features["wrapped"] += 1
        wanted = "quoted" if self.chance(self.style.quote) else "plain"
        if multiline:
            style = "double"
        elif wanted == "plain" and plain_ok(value, flow=flow):
            style = "plain"
        else:
            style = self.pick("single", "double")
        self.features[style] += 1
        quote = {"plain": "", "single": "'", "double": '"'}[style]
        escape = {"plain": str, "single": _escape_single, "double": _escape_double}[style]
        self.emit(quote)
        for part in parts:
            if isinstance(part, Break):
                self.emit(self.nl + " " * (indent + self.style.indent))
            elif isinstance(part, Tok):
                self.tok(part, escape)
            else:
                self.emit(escape(part))
        self.emit(quote)

    def literal(self, node: Scalar, indent: int) -> None:
        """`|` block scalar; the caller has written `key:`."""
        first = str(node.value(None))
        # a first line starting with spaces needs an explicit indentation indicator
        self.emit(" |" + (str(self.style.indent) if first.startswith(" ") else ""))
        self.features["literal"] += 1
        self.line_end()
        content = " " * (indent + self.style.indent)
        at_line_start = True
        for part in node.parts:
            if isinstance(part, Tok):
                if at_line_start:
                    self.emit(content)
                self.tok(part, str)
                at_line_start = False
                continue
            assert isinstance(part, str)
            for index, piece in enumerate(part.split("\n")):
                if index:
                    self.emit(self.nl)
                    at_line_start = True
                if piece:
                    self.emit((content if at_line_start else "") + piece)
                    at_line_start = False
        self.block_scalar_end = self.pos

    def block_line(self, node: Scalar, indent: int) -> None:
        """A single-line value as a `>-` (maybe folded over lines) or `|-` block scalar."""
        value = str(node.value(None))
        folded = self.pick(True, False)
        indicator = str(self.style.indent) if value.startswith(" ") else ""
        self.emit(" " + (">" if folded else "|") + indicator + "-")
        self.features["folded" if folded else "literal-line"] += 1
        self.line_end()
        content = " " * (indent + self.style.indent)
        parts = node.parts
        if folded and not value.startswith(" ") and self.chance(0.5):
            parts = _wrapped(parts, self.draw)
        self.emit(content)
        for part in parts:
            if isinstance(part, Break):
                self.emit(self.nl + content)
            elif isinstance(part, Tok):
                self.tok(part, str)
            else:
                self.emit(part)
        self.emit(self.nl)
        self.block_scalar_end = self.pos

    def tok(self, part: Tok, escape: Callable[[str], str]) -> None:
        self.emit("${{" + part.left)
        start = self.pos
        self.emit(escape(part.ident))
        if part.site:
            self.sites.append((start, self.pos))
        self.emit(part.right + "}}")

    # --- collections

    def value_after_key(self, value: Node, indent: int) -> None:
        """Everything after `key:` up to and including the line break."""
        if isinstance(value, Scalar):
            if value.native is None and "\n" in str(value.value(None)) and self.pick(True, True, True, False):
                self.literal(value, indent)
                return
            if value.native is None and "\n" not in str(value.value(None)) and self.chance(self.style.block):
                self.block_line(value, indent)
                return
            self.separator()
            self.scalar(value, flow=False, indent=indent)
            self.line_end()
            return
        if self.is_empty(value) or self.chance(self.style.flow):
            self.separator()
            self.flow(value, indent)
            self.line_end()
            return
        self.line_end()
        if isinstance(value, Map):
            opened = self.open_region(value)
            self.block_map(value, indent + self.style.indent, continued=False)
            self.close_region(opened)
        else:
            self.block_seq(value, indent + self.style.seq_offset)

    @staticmethod
    def is_empty(node: Map | Seq) -> bool:
        return not (node.entries if isinstance(node, Map) else node.items)

    def block_map(self, node: Map, indent: int, *, continued: bool) -> None:
        """`continued`: the first key goes on the current line (after a `- `)."""
        for index, (key, value) in enumerate(node.entries):
            if not (continued and index == 0):
                if self.chance(self.style.comments / 2):
                    self.comment_line(indent)
                if self.chance(self.style.comments / 4):
                    self.emit(self.nl)
                self.emit(" " * indent)
            self.key(key, flow=False)
            self.colon()
            self.value_after_key(value, indent)

    def block_seq(self, node: Seq, indent: int) -> None:
        pad = self.style.dash_pad
        for item in node.items:
            if self.chance(self.style.comments / 2):
                self.comment_line(indent)
            self.emit(" " * indent + "-" + " " * pad)
            if isinstance(item, Scalar):
                self.scalar(item, flow=False, indent=indent)
                self.line_end()
            elif isinstance(item, Map) and not self.is_empty(item) and not self.chance(self.style.flow):
                opened = self.open_region(item)
                self.block_map(item, indent + 1 + pad, continued=True)
                self.close_region(opened)
            else:
                self.flow(item, indent)
                self.line_end()

    def flow(self, node: Map | Seq, indent: int) -> None:
        opened = self.open_region(node) if isinstance(node, Map) else None
        self.features["flow"] += 1
        open_, close = ("{", "}") if isinstance(node, Map) else ("[", "]")
        children: list[tuple[str | None, Node]] = (
            [(k, v) for k, v in node.entries] if isinstance(node, Map) else [(None, v) for v in node.items]
        )
        if not children:
            self.emit(open_ + self.pick("", " ") + close)
            self.close_region(opened)
            return
        multiline = self.chance(0.3)
        inner = " " * (indent + self.style.indent)
        if multiline:
            self.features["multiline-flow"] += 1
            self.emit(open_ + self.nl)
        else:
            self.emit(open_ + self.pick(" ", ""))
        for index, (key, value) in enumerate(children):
            last = index == len(children) - 1
            if multiline:
                self.emit(inner)
            if key is not None:
                self.key(key, flow=True)
                self.colon()
                self.separator()
            if isinstance(value, Scalar):
                self.scalar(value, flow=True, indent=indent)
            else:
                self.flow(value, indent + self.style.indent if multiline else indent)
            if multiline:
                if not last or self.chance(0.3):
                    self.emit(",")
                if self.chance(self.style.comments):
                    self.trailing_comment()
                self.emit(self.nl)
            elif not last:
                self.emit(", ")
        if multiline:
            self.emit(inner + close)
        else:
            self.emit(self.pick(" ", "") + close)
        self.close_region(opened)


def _wrapped(parts: tuple[Part, ...], draw: Draw[Any]) -> tuple[Part, ...]:
    """Fold the scalar at one space outside any `${{ }}` (YAML reads the break back as that space)."""
    candidates: list[tuple[int, int]] = []
    depth = 0
    for index, part in enumerate(parts):
        if not isinstance(part, str):
            continue
        for offset, char in enumerate(part):
            depth += part.startswith("${{", offset) - part.startswith("}}", offset)
            before = part[offset - 1] if offset else ""
            after = part[offset + 1] if offset + 1 < len(part) else ""
            if char == " " and depth == 0 and before.strip() and re.fullmatch(r"[A-Za-z0-9$]", after):
                candidates.append((index, offset))
    if not candidates:
        return parts
    index, offset = draw(st.sampled_from(candidates))
    text = parts[index]
    assert isinstance(text, str)
    return (*parts[:index], text[:offset], Break(), text[offset + 1 :], *parts[index + 1 :])


# --- the case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    text: str
    pat: str
    sites: tuple[tuple[int, int], ...]  # identifier spans the fix must replace by `secrets.<pat>`
    insertions: int  # checkouts that must gain a `token:`
    release: tuple[int, int]  # where the release job's text lies
    before: Any  # what a YAML parser reads from text
    after: Any  # what it must read once fixed
    features: frozenset[str]

    @property
    def uniform_spacing(self) -> str | None:
        """`${{ ` or `${{X` when every expression of the text is spaced alike (the style an added one follows)."""
        follows = [self.text[m.end() : m.end() + 1] for m in re.finditer(r"\$\{\{", self.text)]
        if follows and all(c == " " for c in follows):
            return "spaced"
        if follows and all(c not in " \n\r" for c in follows):
            return "tight"
        return None


@st.composite
def token_cases(draw: Draw[Any]) -> Case:
    pat = draw(st.sampled_from(PAT_SECRETS))
    spacing = draw(st.sampled_from(("spaced", "spaced", "tight", "mixed")))
    builder = Builder(draw, pat, spacing)
    root, job, steps, release_steps = builder.workflow()
    decide_sites(job, steps, release_steps)
    style = draw(styles())
    renderer = Renderer(draw, style)
    text = renderer.render(root)
    insertions = sum(1 for step in steps if step.adds == "with" or (step.get_map("with") or Map([])).adds)
    features = set(renderer.features) | {f"spacing-{spacing}"}
    return Case(
        text=text,
        pat=pat,
        sites=tuple(renderer.sites),
        insertions=insertions,
        release=renderer.regions["release"],
        before=expected(root, None),
        after=expected(root, pat),
        features=frozenset(features),
    )


# --- the oracle: what a correct fix does to a case -------------------------------------------------


def load_yaml(text: str) -> Any:
    """What a YAML 1.2 parser reads. Tabs only ever separate tokens in these files; ruamel wants spaces."""
    yaml = YAML(typ="safe", pure=True)
    try:
        return yaml.load(text)
    except YAMLError:
        return yaml.load(text.replace("\t", " "))


def token_fixes(text: str) -> list[Fix]:
    snapshot = RepoSnapshot.of("acme/app", {PATH: text.encode("utf-8")})
    return check_snapshot(snapshot, rules=[token_mismatch.RULE]).fixes(include_review=True)


def apply(text: str, fixes: list[Fix]) -> str:
    changes, skipped = apply_fixes({PATH: text}, fixes)
    assert not skipped, f"fixes collided: {skipped}"
    after = changes[0].after if changes else text
    assert after is not None
    return after


@dataclass(frozen=True)
class Checked:
    fixed: str
    edits: tuple[TextEdit, ...]


def check_token_case(case: Case) -> Checked:
    """Fix the case's text and assert (a) semantics, (b) untouched bytes, (c) idempotence. Raises AssertionError."""
    assert load_yaml(case.text) == case.before, "generator bug: the text does not read back as its model"
    fixes = token_fixes(case.text)
    assert all(fix.safety is Safety.SAFE for fix in fixes), [f.notes for f in fixes]
    edits = tuple(sorted(e for fix in fixes for e in fix.edits if isinstance(e, TextEdit)))
    assert len(edits) == sum(len(fix.edits) for fix in fixes) and all(e.path == PATH for e in edits)
    fixed = apply(case.text, fixes)

    # (a) the fixed file reads as the intended change: GITHUB_TOKEN -> PAT at the release job's sites only
    assert load_yaml(fixed) == case.after, "the fixed file does not read as the intended change"

    # (b) the edits are exactly the sites (plus the `token:` insertions), inside the release job
    pat = f"secrets.{case.pat}"
    replaced = [e for e in edits if e.start < e.end]
    assert [(e.start, e.end) for e in replaced] == sorted(case.sites), "edited spans differ from the sites"
    assert all(e.text == pat for e in replaced)
    inserted = [e for e in edits if e.start == e.end]
    assert len(inserted) == case.insertions, "wrong number of `token:` insertions"
    wanted = {"spaced": "${{ " + pat + " }}", "tight": "${{" + pat + "}}"}.get(case.uniform_spacing or "", pat)
    assert all(wanted in e.text and "token" in e.text for e in inserted), "inserted token in the wrong style"
    low, high = case.release
    assert all(low <= e.start and e.end <= high for e in edits), "an edit lies outside the release job"
    # every byte outside the edited spans is unchanged, in order
    cursor = out = 0
    for edit in edits:
        gap = case.text[cursor : edit.start]
        assert fixed[out : out + len(gap)] == gap, f"bytes before offset {edit.start} changed"
        out += len(gap)
        assert fixed[out : out + len(edit.text)] == edit.text
        out += len(edit.text)
        cursor = edit.end
    assert fixed[out:] == case.text[cursor:], "bytes after the last edit changed"
    # and, line by line, only lines holding an edited token differ
    touched = {case.text.count("\n", 0, e.start) for e in edits}
    old, new = case.text.splitlines(keepends=True), fixed.splitlines(keepends=True)
    changed: set[int] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        changed.update(range(i1, i2))
        assert set(range(i1, i2)) <= touched, f"lines {i1 + 1}-{i2} changed without an edited token"
        assert all(pat in line or re.fullmatch(r"\s*with:\s*", line) for line in new[j1:j2])
    assert {case.text.count("\n", 0, e.start) for e in replaced} <= changed

    # (c) idempotent: nothing left to fix, and fixing again changes nothing
    again = token_fixes(fixed)
    assert again == [], f"fixable findings remain after the fix: {[f.description for f in again]}"
    assert apply(fixed, again) == fixed
    return Checked(fixed, edits)


# --- redundant-docker: deleting duplicates and their README badges ------------------------------------

DUPLICATES = {  # the two duplicate workflows of the `reference` golden case, and their `name:`
    ".github/workflows/docker.yml": "Docker Build and Push",
    ".github/workflows/docker-build.yml": "Build Multi-Arch Image",
}
_REPO_URL = "https://github.com/acme/service"


@dataclass(frozen=True)
class ReadmeCase:
    readme: str
    expected: str  # the README once the duplicates' badges are gone
    badge_lines: frozenset[int]  # 0-based lines holding a badge that must go
    features: frozenset[str]


def _badge(workflow: str | None, form: str, label: str) -> str:
    """A status badge: of a duplicate workflow (by file or by its name) or, with workflow None, of main.yml."""
    if workflow is None:
        image = f"{_REPO_URL}/actions/workflows/main.yml/badge.svg"
    elif form.startswith("name"):
        image = f"{_REPO_URL}/workflows/{DUPLICATES[workflow].replace(' ', '%20')}/badge.svg"
    else:
        image = f"{_REPO_URL}/actions/workflows/{workflow.rsplit('/', 1)[1]}/badge.svg"
        image += "?branch=main" if form.endswith("branch") else ""
    target = f"{_REPO_URL}/actions/workflows/{(workflow or 'main.yml').rsplit('/', 1)[-1]}"
    return f"[![{label}]({image})]({target})" if "linked" in form else f"![{label}]({image})"


@st.composite
def readme_cases(draw: Draw[Any]) -> ReadmeCase:
    """A README whose lines mix words, other badges and badges of the two duplicates, joined by one space."""
    newline = draw(st.sampled_from(("\n", "\r\n")))
    final_newline = draw(st.booleans())
    other = st.sampled_from(
        (
            "Build",
            "status:",
            "docs",
            "(see docker.yml)",
            _badge(None, "linked", "CI"),
            "![License](https://img.shields.io/badge/license-MIT-blue.svg)",
        )
    )
    doomed = st.builds(
        _badge,
        st.sampled_from(sorted(DUPLICATES)),
        st.sampled_from(("linked", "bare", "linked-branch", "bare-branch", "name-linked", "name-bare")),
        st.sampled_from(("Docker", "Image", "")),
    )
    token = st.one_of(other.map(lambda t: (t, False)), doomed.map(lambda t: (t, True)))
    lines = draw(st.lists(st.lists(token, max_size=5), min_size=1, max_size=8))
    lines = [[("# Service", False)], *lines]
    readme: list[str] = []
    expected: list[str] = []
    badge_lines: set[int] = set()
    for index, line in enumerate(lines):
        end = newline if final_newline or index < len(lines) - 1 else ""
        readme.append(" ".join(text for text, _ in line) + end)
        kept = [text for text, goes in line if not goes]
        if any(goes for _, goes in line):
            badge_lines.add(index)
            if not kept:
                continue  # a line left blank goes whole
        expected.append(" ".join(kept) + end)
    features = {"crlf"} if newline == "\r\n" else set()
    if any(sum(goes for _, goes in line) > 1 for line in lines):
        features.add("adjacent-badges")
    return ReadmeCase("".join(readme), "".join(expected), frozenset(badge_lines), frozenset(features))


def check_readme_case(case: ReadmeCase) -> None:
    """Delete the duplicates: the README loses exactly their badges (and lines left blank), nothing else."""
    files = {path: data for path, data in golden_tree("reference").items() if path != "README.md"}
    files["README.md"] = case.readme.encode("utf-8")
    snapshot = RepoSnapshot.of("acme/service", files, default_branch="main")
    texts = {path: data.decode("utf-8") for path, data in files.items()}
    report = check_snapshot(snapshot, rules=[redundant_docker.RULE])
    fixes = report.fixes()
    assert sorted(p for fix in fixes for p in fix.paths() if p in DUPLICATES) == sorted(DUPLICATES)
    changes, skipped = apply_fixes(texts, fixes)
    assert not skipped, f"fixes collided: {[f.description for f in skipped]}"
    after = {c.path: c.after for c in changes}
    assert {p: after[p] for p in DUPLICATES} == dict.fromkeys(DUPLICATES)
    assert set(after) - set(DUPLICATES) <= {"README.md"}, "a file other than the README changed"
    readme = after.get("README.md", case.readme)
    assert readme == case.expected
    old, new = case.readme.splitlines(keepends=True), (readme or "").splitlines(keepends=True)
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        assert tag == "equal" or set(range(i1, i2)) <= case.badge_lines, "a line without a badge changed"
    # idempotent: the fixed tree has nothing left to fix
    fixed = {p: t.encode("utf-8") for p, t in texts.items() if p not in DUPLICATES}
    fixed["README.md"] = (readme or "").encode("utf-8")
    again = check_snapshot(RepoSnapshot.of("acme/service", fixed, default_branch="main"), rules=[redundant_docker.RULE])
    assert again.fixes(include_review=True) == []
