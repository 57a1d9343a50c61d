"""The vocabulary of the walk table (`tasdeed.flows.walks`): a step, its options, its calls.

A step says what it shows, what it expects, where each answer leads and which core function
(`tasdeed.flows.calls.WalkCalls`) it calls. A call may lead only to the steps the table
names for it (`leads`); the engine checks that at run time, so the diagram drawn from the
table (`tasdeed.flows.diagram`) is the whole truth about where a walk can go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasdeed.flows.screens import Expects
from tasdeed.profile import Profile
from tasdeed.text import Text

if TYPE_CHECKING:
    from tasdeed.flows.calls import WalkCalls
    from tasdeed.flows.state import FlowState

Data = Mapping[str, Any]
Body = Callable[[Profile, Data], tuple[Text, ...]]
Call = Callable[["WalkCalls", "FlowState", str], Awaitable[str]]
Shown = Callable[[Profile, Data], bool]


@dataclass(frozen=True, slots=True)
class Go:
    """One option of a choice step: the key, its label, and either the next step (`to`) or
    a core call (`call`) that may lead to any of `leads`."""

    choice: str
    label: Text
    to: str | None = None
    call: Call | None = None
    leads: tuple[str, ...] = ()
    when: Shown | None = None  # shown only when this holds (a profile setting, the quote)


Options = tuple[Go, ...] | Callable[[Profile, Data], tuple[Go, ...]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    body: Body
    expects: Expects = Expects.CHOICE
    options: Options = ()
    take: Call | None = None  # what a data step does with the answer
    leads: tuple[str, ...] = ()  # where `take` may lead
    final: bool = False
    yes: str | None = None  # the option an explicit yes (answers list) stands for
    no: str | None = None  # the option a no stands for; elsewhere a no leaves the walk

    def shown_options(self, profile: Profile, data: Data) -> tuple[Go, ...]:
        options = self.options(profile, data) if callable(self.options) else self.options
        return tuple(go for go in options if go.when is None or go.when(profile, data))

    def all_options(self, profile: Profile) -> tuple[Go, ...]:
        """Every option the step can ever show (for the diagram), with no data at hand."""
        if callable(self.options):
            return self.options(profile, {})
        return self.options


def says(*keys: str) -> Body:
    """A body of fixed catalogue texts."""
    texts = tuple(Text(key) for key in keys)
    return lambda profile, data: texts
