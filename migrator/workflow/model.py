"""A thin semantic view over a composed workflow: triggers, env, jobs and steps.

Everything keeps its ruamel node, so rules can point at lines and edit text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from migrator.model import Location
from migrator.workflow import document as d
from migrator.workflow.document import Document


@dataclass(frozen=True, eq=False)
class Step:
    index: int
    node: MappingNode
    uses: str | None
    run: ScalarNode | None
    with_: Node | None
    env: Node | None
    step_id: str | None
    name: str | None

    def action(self) -> str | None:
        """`owner/repo[/path]` of `uses:`, lowercased and without the version."""
        if not self.uses:
            return None
        return self.uses.split("@", 1)[0].strip().lower()

    def input(self, key: str) -> Node | None:
        return d.get(self.with_, key)

    def input_str(self, key: str) -> str | None:
        return d.scalar(self.input(key))

    def label(self) -> str:
        return self.name or self.step_id or self.uses or f"step {self.index + 1}"


@dataclass(frozen=True, eq=False)
class Job:
    job_id: str
    key: ScalarNode
    node: Node
    env: Node | None
    steps: tuple[Step, ...]
    uses: str | None  # a reusable-workflow call


@dataclass(frozen=True)
class Triggers:
    """`on:` reduced to event name -> its configuration node (None when bare)."""

    events: dict[str, Node | None] = field(default_factory=dict)

    def names(self) -> set[str]:
        return set(self.events)

    def filters(self, event: str, key: str) -> list[str] | None:
        """A filter list such as push.branches; None when the filter is absent."""
        config = self.events.get(event)
        node = d.get(config, key)
        return None if node is None else d.strings(node)


@dataclass(frozen=True, eq=False)
class Workflow:
    doc: Document
    name: str | None
    triggers: Triggers
    env: Node | None
    jobs: tuple[Job, ...]

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def location(self, node: Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)


def build(doc: Document) -> Workflow:
    root = doc.root
    return Workflow(
        doc=doc,
        name=d.scalar(d.get(root, "name")),
        triggers=_triggers(d.get(root, "on")),
        env=d.get(root, "env"),
        jobs=tuple(_job(key, value) for key, value in d.items(d.get(root, "jobs"))),
    )


def _triggers(node: Node | None) -> Triggers:
    if isinstance(node, ScalarNode):
        return Triggers({node.value: None})
    if isinstance(node, MappingNode):
        return Triggers({key.value: value for key, value in d.items(node)})
    return Triggers(dict.fromkeys(d.strings(node)))


def _job(key: ScalarNode, node: Node) -> Job:
    steps = tuple(
        _step(index, step)
        for index, step in enumerate(d.elements(d.get(node, "steps")))
        if isinstance(step, MappingNode)
    )
    return Job(
        job_id=key.value,
        key=key,
        node=node,
        env=d.get(node, "env"),
        steps=steps,
        uses=d.scalar(d.get(node, "uses")),
    )


def _step(index: int, node: MappingNode) -> Step:
    run = d.get(node, "run")
    return Step(
        index=index,
        node=node,
        uses=d.scalar(d.get(node, "uses")),
        run=run if isinstance(run, ScalarNode) else None,
        with_=d.get(node, "with"),
        env=d.get(node, "env"),
        step_id=d.scalar(d.get(node, "id")),
        name=d.scalar(d.get(node, "name")),
    )
