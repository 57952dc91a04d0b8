"""Flow definitions as inert, validated data.

A flow is a small graph of nodes. English text lives in the definition; the
translations are looked up in gettext catalogs under a context derived from
the flow, node and option ids (see :func:`text_context`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
"""Ids stay short and ASCII so contexts and callback data stay small."""

_ID = r"[a-z][a-z0-9_]{0,31}"
Target = Annotated[str, StringConstraints(pattern=rf"^({_ID}:)?{_ID}$")]
"""``node`` inside the same flow, or ``flow:node`` across flows."""

MAX_LABEL_HINT = 40
"""Display columns a button label can take before a phone cuts it off (a Chinese
character takes two)."""

MAIN_FLOW = "main"
MAIN_NODE = "menu"
MEMBER_LANGUAGE = "member"
"""The value of a handoff's ``language`` preset meaning the member's own language."""

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Option(_Frozen):
    """A button that leads somewhere."""

    id: Identifier
    label: str = Field(min_length=1)
    goto: Target


class Choice(_Frozen):
    """One answer of a choice question; its id is what gets recorded."""

    id: Identifier
    label: str = Field(min_length=1)


class Validator(StrEnum):
    """Checks for a short free-text answer."""

    TEXT = "text"
    NUMBER = "number"
    COUNTRY_CODE = "country_code"


class FreeText(_Frozen):
    validator: Validator = Validator.TEXT
    max_length: int = Field(default=64, ge=1, le=256)


class NodeKind(StrEnum):
    MESSAGE = "message"
    QUESTION = "question"
    HANDOFF = "handoff"
    END = "end"


class _NodeBase(_Frozen):
    id: Identifier
    text: str = Field(min_length=1)
    sources: tuple[str, ...] = ()
    hedged: tuple[str, ...] = ()
    """Sources marked [U] in FACTS.md that the text relies on but states as uncertain;
    listing one here acknowledges the check's warning. Each must also be in ``sources``."""
    unsourced: Literal["menu", "about the bot"] | None = None
    """Why a node cites no facts: a pure menu, or text about the bot itself."""


class MessageNode(_NodeBase):
    kind: Literal[NodeKind.MESSAGE] = NodeKind.MESSAGE
    options: tuple[Option, ...] = ()


class EndNode(_NodeBase):
    kind: Literal[NodeKind.END] = NodeKind.END
    options: tuple[Option, ...] = ()


class QuestionNode(_NodeBase):
    kind: Literal[NodeKind.QUESTION] = NodeKind.QUESTION
    answer: Identifier
    choices: tuple[Choice, ...] = ()
    free_text: FreeText | None = None
    next: Target

    @model_validator(mode="after")
    def _one_answer_form(self) -> QuestionNode:
        if bool(self.choices) == (self.free_text is not None):
            raise ValueError("a question has either choices or free_text, not both or neither")
        return self


class HandoffNode(_NodeBase):
    """Asks for explicit consent before a member is referred to a volunteer."""

    kind: Literal[NodeKind.HANDOFF] = NodeKind.HANDOFF
    consent_label: str = Field(min_length=1)
    decline_label: str = Field(min_length=1)
    next: Target
    declined: Target
    presets: dict[Literal["topic", "urgency", "language"], Identifier] = Field(default_factory=dict)
    """Answers the referral questions need not ask again, e.g. for someone detained now;
    the bot checks the values against its own lists and asks when one is unknown.
    ``language: member`` means the language the member reads the bot in."""


Node = Annotated[MessageNode | QuestionNode | HandoffNode | EndNode, Field(discriminator="kind")]


class Flow(_Frozen):
    id: Identifier
    start: Identifier
    nodes: tuple[Node, ...]

    def node(self, node_id: str) -> Node | None:
        for node in self.nodes:
            if node.id == node_id:
                return node
        return None


def resolve(flow_id: str, target: str) -> tuple[str, str]:
    """Turn a target written inside ``flow_id`` into ``(flow, node)``."""
    if ":" in target:
        other, node = target.split(":", 1)
        return other, node
    return flow_id, target


def text_context(flow_id: str, node_id: str, part: str | None = None) -> str:
    """The gettext ``msgctxt`` under which a flow text is translated."""
    return f"{flow_id}.{node_id}" if part is None else f"{flow_id}.{node_id}.{part}"


def placeholders(text: str) -> frozenset[str]:
    return frozenset(PLACEHOLDER.findall(text))
