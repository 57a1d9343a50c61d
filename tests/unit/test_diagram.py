"""The Mermaid diagram of the walk table (tasdeed/flows/diagram.py): drawn from the table
alone, every step and every way out of it on it, well formed for every profile, and the
checked-in docs/walks.md what the generator writes now."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tasdeed.flows import diagram
from tasdeed.flows.calls import WalkCalls, rule_topics
from tasdeed.flows.diagram import DOC_PATH, document, mermaid, node_id
from tasdeed.flows.walks import CONFIRMED, LEAVING_STEPS, STEPS, WALK_STARTS
from tasdeed.i18n import translate
from tasdeed.profile import Profile, available_profiles, load_profile

PROFILES = available_profiles()
SAFE_ID = re.compile(r"[A-Za-z0-9_]+")
# A node definition: id, an opening shape, a quoted label, the closing shape, maybe a class.
NODE = re.compile(
    r'^(?P<id>\S+?)(?P<open>\(\[|\[/|\{\{|\[|\(|>)"(?P<label>[^"]*)"'
    r"(?P<close>\]\)|/\]|\}\}|\]|\))(?::::(?P<cls>[A-Za-z]+))?$"
)
EDGE = re.compile(r'^(?P<src>\S+) (?P<arrow>-->|-\.->)(?:\|"(?P<label>[^"]*)"\|)? (?P<dst>\S+)$')
SUBGRAPH = re.compile(r'^subgraph (?P<id>\S+) \["[^"]*"\]$')
CLASSDEF = re.compile(r"^classDef [A-Za-z]+ [a-z-]+:.+$")


@dataclass
class Chart:
    nodes: dict[str, str] = field(default_factory=dict)  # id → label
    classes: dict[str, str] = field(default_factory=dict)  # id → class
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (source, label, target)
    subgraphs: dict[str, set[str]] = field(default_factory=dict)

    def out(self, source: str) -> list[tuple[str, str]]:
        """(label, target) of every edge from `source`, in order."""
        return [(label, dst) for src, label, dst in self.edges if src == source]

    def targets(self, source: str) -> set[str]:
        return {dst for _, dst in self.out(source)}

    def into(self, target: str) -> list[tuple[str, str]]:
        return [(src, label) for src, label, dst in self.edges if dst == target]


def parse(text: str) -> Chart:
    """Read the generator's Mermaid back, refusing any line it does not recognise and any
    node defined twice."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    chart, inside = Chart(), None
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line or line.startswith("%%") or CLASSDEF.match(line):
            continue
        if match := SUBGRAPH.match(line):
            assert inside is None, f"line {number}: nested subgraph"
            inside = match["id"]
            chart.subgraphs[inside] = set()
        elif line == "end":
            assert inside is not None, f"line {number}: end outside a subgraph"
            inside = None
        elif match := EDGE.match(line):
            chart.edges.append((match["src"], match["label"] or "", match["dst"]))
        elif match := NODE.match(line):
            node = match["id"]
            assert SAFE_ID.fullmatch(node), f"line {number}: unsafe id {node!r}"
            assert node not in chart.nodes, f"line {number}: {node} defined twice"
            chart.nodes[node] = match["label"]
            if match["cls"]:
                chart.classes[node] = match["cls"]
            if inside is not None:
                chart.subgraphs[inside].add(node)
        else:
            raise AssertionError(f"line {number} is not a node, an edge or a comment: {raw!r}")
    assert inside is None, "a subgraph is never closed"
    return chart


@pytest.fixture(scope="module", params=PROFILES)
def profile(request: pytest.FixtureRequest) -> Profile:
    return load_profile(request.param)


@pytest.fixture(scope="module")
def chart(profile: Profile) -> Chart:
    return parse(mermaid(profile))


def test_the_checked_in_docs_are_what_the_generator_writes() -> None:
    assert DOC_PATH.is_file(), "docs/walks.md is missing: python -m tasdeed.flows.diagram"
    assert DOC_PATH.read_text(encoding="utf-8") == document(), (
        "docs/walks.md is out of date with the walk table: run python -m tasdeed.flows.diagram"
    )
    for profile_id in PROFILES:
        assert f"## {profile_id}:" in document()
    assert document().count("```mermaid") == len(PROFILES)


def test_check_fails_on_a_stale_doc_and_passes_on_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "walks.md"
    monkeypatch.setattr(diagram, "DOC_PATH", doc)
    with pytest.raises(SystemExit) as missing:
        diagram.main(["--check"])
    assert missing.value.code == 1
    diagram.main([])
    assert doc.read_text(encoding="utf-8") == document()
    diagram.main(["--check"])  # no exit: current
    doc.write_text(document().replace("pay_confirm", "pay_confirmed"), encoding="utf-8")
    with pytest.raises(SystemExit) as stale:
        diagram.main(["--check"])
    assert stale.value.code == 1
    assert "out of date" in capsys.readouterr().err


def test_every_output_is_well_formed(profile: Profile) -> None:
    for language in ("en", "ar"):
        text = mermaid(profile, language)
        assert text.startswith("flowchart TD\n")
        chart = parse(text)  # known lines only, no node twice, safe ids
        for source, _, target in chart.edges:
            assert source in chart.nodes, f"edge from undefined node {source}"
            assert target in chart.nodes, f"edge to undefined node {target}"
        assert mermaid(profile, language) == text  # the same every time


def test_every_step_is_a_node(chart: Chart) -> None:
    for name, step in STEPS.items():
        assert node_id(name) in chart.nodes, name
        assert chart.nodes[node_id(name)].split("<br/>")[0] == name
        assert (chart.classes.get(node_id(name)) == "finalStep") == step.final, name


def test_every_target_of_the_table_is_an_edge_target(profile: Profile, chart: Chart) -> None:
    for name, step in STEPS.items():
        out = chart.out(node_id(name))
        if step.take is not None:
            for lead in step.leads:
                assert (step.take.__name__, node_id(lead)) in out, (name, lead)
        for go in step.all_options(profile):
            chosen = [dst for label, dst in out if label.startswith(f"{go.choice}: ")]
            assert len(chosen) == 1, (name, go.choice, out)
            if go.to is not None:
                assert chosen == [node_id(go.to)], (name, go.choice)
                continue
            assert go.call is not None
            assert chart.nodes[chosen[0]] == go.call.__name__, (name, go.choice)
            assert {node_id(lead) for lead in go.leads} <= chart.targets(chosen[0])


def test_the_confirmation_step_names_the_call_that_pays(chart: Chart) -> None:
    name = WalkCalls.confirm_quote.__name__
    out = chart.out(node_id("pay.confirm"))
    paying = [(label, node) for label, node in out if chart.nodes[node] == name]
    assert len(paying) == 1, out
    label, node = paying[0]
    assert label.startswith("1: ")  # only the confirm option reaches it
    assert chart.targets(node) == {node_id(step) for step in CONFIRMED}
    assert chart.classes[node] == "coreCall"


def test_leaving_is_drawn_once_for_every_step(chart: Chart) -> None:
    leaving = next(iter(chart.subgraphs.values()))
    assert {node_id(name) for name in LEAVING_STEPS} < leaving
    for name in LEAVING_STEPS:
        into = chart.into(node_id(name))
        assert len(into) == 1, (name, into)  # one shared edge, not one from every step
        assert into[0][0] in leaving and into[0][1]
    home = [label for src, label, dst in chart.edges if src == diagram.ANY_STEP and dst == "main"]
    assert home == ["00: home"]


def test_chat_entry_points_are_start_nodes(profile: Profile, chart: Chart) -> None:
    offered = rule_topics(profile)
    for walk, (first, preset) in WALK_STARTS.items():
        start = f"start_{node_id(walk)}"
        topic = preset.get("topic")
        if topic is None or topic in offered:
            assert chart.classes.get(start) == "entry", walk
            assert chart.out(start) == [("", node_id(first))], walk
        else:  # a rules topic this utility does not offer: chat cannot start it
            assert start not in chart.nodes, walk
    assert chart.out("start_keypad") == [("", "language")]
    assert chart.out("start_resume") == [("", "resume")]


def test_profile_options_and_titles_follow_the_profile_and_language() -> None:
    for profile_id in PROFILES:
        profile = load_profile(profile_id)
        chart = parse(mermaid(profile, "ar"))
        topics = [label for label, _ in chart.out(node_id("rules.menu"))]
        assert topics == [
            f"{i}: {translate(f'topic.{topic}', 'ar', profile.dialect)}"
            for i, topic in enumerate(rule_topics(profile), start=1)
        ]
        title = translate("main.title", "ar", profile.dialect)
        assert chart.nodes["main"] == f"main<br/>{title}"
        # A text with values the diagram has none for is shown by its key.
        assert chart.nodes[node_id("pay.code")] == "pay.code<br/>ask.code"


def test_ids_are_made_safe() -> None:
    assert node_id("rules:prepaid") == "rules_prepaid"
    assert node_id("walk.too_many_tries") == "walk_too_many_tries"
    with pytest.raises(ValueError):
        mermaid(load_profile(PROFILES[0]), "fr")
