"""The walk table (`tasdeed.flows.walks.STEPS`) drawn as a Mermaid flowchart.

Everything drawn comes from the table: one node per step, an edge per option (to its step,
or to a node for its core call and from there to each step the call may lead to), a data
step's `take` as edges to its `leads` labelled with the call's name, chat's entry points
(`WALK_STARTS`) as start nodes, and one shared box for what the engine lets any step that
is not final do (leave to `LEAVING_STEPS`, or go home on `00`) instead of an edge from each.

    .venv/bin/python -m tasdeed.flows.diagram            # writes docs/walks.md
    .venv/bin/python -m tasdeed.flows.diagram --check    # exits 1 if docs/walks.md is stale
    .venv/bin/python -m tasdeed.flows.diagram --profile kw --language ar   # one, to stdout
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from tasdeed.flows.calls import rule_topics
from tasdeed.flows.engine import HOME, MAX_TRIES
from tasdeed.flows.steps import Go, Step
from tasdeed.flows.walks import LEAVING_STEPS, STEPS, WALK_STARTS
from tasdeed.i18n import LANGUAGES, translate
from tasdeed.profile import Profile, available_profiles, load_profile
from tasdeed.text import Text

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "walks.md"
COMMAND = "python -m tasdeed.flows.diagram"

# Where the engine enters the table other than from chat (`FlowEngine.start`, `.resume`).
KEYPAD_START = "language"
RESUME_STEP = "resume"
HOME_STEP = "main"  # where `00` goes
# What takes a person to each leaving step (`FlowEngine.handle`, `FlowEngine._retry`).
LEAVING_WHY = {
    "walk.cancelled": "cancel, goodbye, or no where no is not an option",
    "walk.handoff": "a person, please",
    "walk.too_many_tries": f"{MAX_TRIES} answers in a row not taken",
    "walk.over_budget": "more quotes than one person needs",
}
LEAVING_GROUP = "leaving"
ANY_STEP = "any_step"


def node_id(name: str) -> str:
    """A Mermaid-safe id for a step or intent name ("rules:prepaid" → "rules_prepaid")."""
    return name.replace(".", "_").replace(":", "_")


def _escape(text: str) -> str:
    """Text for a double-quoted Mermaid label: entity codes for what the syntax reads."""
    for raw, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, code)
    return " ".join(text.split())  # one line: catalogue texts may hold "\n"


def _title(text: Text, profile: Profile, language: str) -> str:
    """The catalogue text when it needs no values, else its key (a placeholder the
    diagram has no value for)."""
    if text.params:
        return text.key
    try:
        return translate(text.key, language, profile.dialect)
    except (KeyError, IndexError):
        return text.key


def _step_label(step: Step, profile: Profile, language: str) -> str:
    try:
        body = step.body(profile, {})
    except (LookupError, TypeError, ValueError, AttributeError):
        body = ()  # a body made from a walk's data (a quote, a receipt): the name says it
    if not body:
        return _escape(step.name)
    return f"{_escape(step.name)}<br/>{_escape(_title(body[0], profile, language))}"


def _call_name(call: Callable[..., object]) -> str:
    return str(getattr(call, "__name__", repr(call)))


def _target(name: str, at: str) -> str:
    if name not in STEPS:
        raise ValueError(f"step {at!r} leads to {name!r}, which is not in the table")
    return node_id(name)


def _shape(step: Step, label: str) -> str:
    if step.final:
        return f'("{label}"):::finalStep'
    if step.expects.is_data:
        return f'[/"{label}"/]:::dataStep'
    return f'["{label}"]'


def _starts(profile: Profile) -> list[tuple[str, str]]:
    """Chat's entry points this profile offers, as `FlowEngine.begin` allows them."""
    offered = rule_topics(profile)
    return [
        (walk, first)
        for walk, (first, preset) in WALK_STARTS.items()
        if preset.get("topic") is None or preset["topic"] in offered
    ]


def _option_edge(go: Go, profile: Profile, language: str) -> tuple[str, str]:
    """The arrow and label of one option's edge: dotted when the option is not always shown."""
    label = f"{go.choice}: {_title(go.label, profile, language)}"
    if go.when is not None:
        label += f" (if {_call_name(go.when).strip('_').replace('_', ' ')})"
        return "-.->", _escape(label)
    return "-->", _escape(label)


def mermaid(profile: Profile, language: str = "en") -> str:
    """The walk table for one profile as a Mermaid `flowchart TD`, titles in `language`."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    for name in (KEYPAD_START, RESUME_STEP, HOME_STEP, *LEAVING_STEPS):
        if name not in STEPS:
            raise ValueError(f"{name!r} is not a step of the table")
    seen_ids: dict[str, str] = {}
    for name in STEPS:
        other = seen_ids.setdefault(node_id(name), name)
        if other != name:
            raise ValueError(f"steps {other!r} and {name!r} share the node id {node_id(name)}")

    lines = [
        "flowchart TD",
        f"%% Generated from tasdeed/flows/walks.py by `{COMMAND}`; profile {profile.id}.",
        "classDef entry fill:#e6f4ea,stroke:#1f7a4d",
        "classDef finalStep fill:#fff,stroke:#14452f,stroke-width:3px",
        "classDef dataStep fill:#eef3fb,stroke:#3b5998",
        "classDef coreCall fill:#fff8e1,stroke:#b26a00",
        "classDef anyStep fill:#f5f5f5,stroke:#888,stroke-dasharray:4 3",
        "",
        "%% where walks start",
        'start_keypad(["USSD / IVR: dial in"]):::entry',
        f"start_keypad --> {node_id(KEYPAD_START)}",
        'start_resume(["USSD / IVR: redial after a dropped payment"]):::entry',
        f"start_resume --> {node_id(RESUME_STEP)}",
    ]
    for walk, first in _starts(profile):
        start = f"start_{node_id(walk)}"
        lines.append(f'{start}(["chat: {_escape(walk)}"]):::entry')
        lines.append(f"{start} --> {_target(first, walk)}")

    lines += ["", "%% steps"]
    for step in STEPS.values():
        if step.name not in LEAVING_STEPS:
            lines.append(
                f"{node_id(step.name)}{_shape(step, _step_label(step, profile, language))}"
            )

    lines += ["", "%% answers: options, and the core calls they run"]
    for step in STEPS.values():
        lines.extend(_edges(step, profile, language))

    lines += [
        "",
        "%% what the engine lets every step that is not final do",
        f'subgraph {LEAVING_GROUP} ["from any step that is not final"]',
        f'  {ANY_STEP}>"any step that is not final"]:::anyStep',
    ]
    for name in LEAVING_STEPS:
        step = STEPS[name]
        lines.append(f"  {node_id(name)}{_shape(step, _step_label(step, profile, language))}")
    lines.append("end")
    for name in LEAVING_STEPS:
        why = LEAVING_WHY.get(name)
        arrow = f'-.->|"{_escape(why)}"|' if why else "-.->"
        lines.append(f"{ANY_STEP} {arrow} {node_id(name)}")
    lines.append(f'{ANY_STEP} -.->|"{HOME}: home"| {node_id(HOME_STEP)}')
    return "\n".join(lines) + "\n"


def _edges(step: Step, profile: Profile, language: str) -> Iterable[str]:
    source = node_id(step.name)
    if step.take is not None:
        name = _call_name(step.take)
        for lead in step.leads:
            yield f'{source} -->|"{_escape(name)}"| {_target(lead, step.name)}'
    drawn: set[str] = set()  # call nodes and their edges, once each per step
    for go in step.all_options(profile):
        arrow, label = _option_edge(go, profile, language)
        if go.to is not None:
            yield f'{source} {arrow}|"{label}"| {_target(go.to, step.name)}'
            continue
        if go.call is None:
            raise ValueError(f"{step.name} option {go.choice} leads nowhere")
        name = _call_name(go.call)
        call_node = f"{source}__{name}"
        yield f'{source} {arrow}|"{label}"| {call_node}'
        if call_node not in drawn:
            drawn.add(call_node)
            yield f'{call_node}{{{{"{_escape(name)}"}}}}:::coreCall'
        for lead in go.leads:
            edge = f"{call_node} --> {_target(lead, step.name)}"
            if edge not in drawn:
                drawn.add(edge)
                yield edge


def document(profiles: Iterable[str] | None = None) -> str:
    """docs/walks.md: every profile's diagram, in English."""
    parts = [
        "# The walks, as drawn from the table",
        "",
        f"Generated from `tasdeed/flows/walks.py` by `{COMMAND}`: do not edit by hand,",
        f"run the command again after changing the table (`{COMMAND} --check` tells CI).",
        "Rectangles ask for a choice, slanted boxes for data (a code, an amount, a number),",
        "hexagons are the core calls (`tasdeed.flows.calls.WalkCalls`), rounded boxes end a",
        "walk, dotted options are shown only when their condition holds.",
    ]
    for profile_id in profiles if profiles is not None else available_profiles():
        profile = load_profile(profile_id)
        parts += [
            "",
            f"## {profile.id}: {profile.utility_name_en}",
            "",
            "```mermaid",
            mermaid(profile, "en").rstrip("\n"),
            "```",
        ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Draw the walk table as Mermaid (docs/walks.md)."
    )
    parser.add_argument(
        "--profile",
        choices=available_profiles(),
        help="print only this profile's diagram to stdout instead of writing docs/walks.md",
    )
    parser.add_argument("--language", choices=LANGUAGES, default="en", help="with --profile")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/walks.md is not what it would write"
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        if args.check:
            parser.error("--check compares the whole docs/walks.md: leave out --profile")
        sys.stdout.write(mermaid(load_profile(args.profile), args.language))
        return
    expected = document()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else None
        if current != expected:
            state = "is missing" if current is None else "is out of date with the walk table"
            print(f"{DOC_PATH} {state}: run `{COMMAND}` and commit it.", file=sys.stderr)
            sys.exit(1)
        print(f"{DOC_PATH} is current.")
        return
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(expected, encoding="utf-8")
    print(f"wrote {DOC_PATH}")


if __name__ == "__main__":
    main()
