"""Explicit state machines: transition tables in code, drawn in docs/state-machines.md.

Every change of state goes through ``StateMachine.fire``, which refuses an event the table does
not list for the current state; the table is the single place that says what may happen next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from custody.domain.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    name: str
    initial: S
    transitions: Mapping[tuple[S, str], S]
    # Events no one asks for: the exchange, the law or a timer brings them. A refusal names them apart
    # from what an officer may do now (a review found "allowed now: cancel, close, fulfil, lapse,
    # relay" offered to an officer who can only cancel).
    automatic: frozenset[str] = frozenset()

    def fire(self, state: S, event: str) -> S:
        try:
            return self.transitions[(state, event)]
        except KeyError:
            possible = {e for (s, e) in self.transitions if s == state}
            asked = sorted(_words(e) for e in possible - self.automatic)
            itself = sorted(_words(e) for e in possible & self.automatic)
            hints = [f"allowed now: {', '.join(asked)}"] if asked else []
            hints += [f"by itself, as messages and timers come: {', '.join(itself)}"] if itself else []
            hint = "; ".join(hints) or "nothing further can happen to it"
            raise IllegalTransition(
                f"the {self.name} is {_words(state.value)}: '{_words(event)}' cannot happen now ({hint})"
            ) from None

    def events(self) -> set[str]:
        return {e for (_, e) in self.transitions}

    def mermaid(self) -> str:
        """The diagram in docs/ is generated from this table, so the two never disagree."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for (source, event), target in self.transitions.items():
            lines.append(f"    {source.value} --> {target.value}: {event}")
        return "\n".join(lines)


def _words(name: str) -> str:
    """A state's or event's name as the officer reading the refusal says it ('lapse hold')."""
    return name.replace("_", " ")
