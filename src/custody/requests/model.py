"""Federal requests and their lifecycle, as a transition table (drawn in docs/state-machines.md).

Each request is checked against its form's period and warrant rule before it is accepted; the
custodial agency then answers it under the law decision custody made for that agency.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from custody.domain.errors import InvalidInput
from custody.domain.statemachine import StateMachine
from custody.law.model import Action, Form


class RequestKind(StrEnum):
    detainer = "detainer"
    notification_request = "notification_request"
    transfer_request = "transfer_request"


class Warrant(StrEnum):
    """What backs the request, as the officer attaches it."""

    none = "none"
    i_200 = "I-200"
    i_205 = "I-205"
    judicial_criminal = "judicial_criminal"
    judicial_order = "judicial_order"

    @property
    def contract(self) -> str:
        """The DecisionRequest's warrant kind: I-200 and I-205 are administrative warrants."""
        return "administrative" if self in (Warrant.i_200, Warrant.i_205) else self.value


class RequestState(StrEnum):
    issued = "issued"
    received = "received"
    decided = "decided"
    responded = "responded"
    fulfilled = "fulfilled"
    lapsed = "lapsed"
    closed = "closed"
    cancelled = "cancelled"


R = RequestState
REQUEST = StateMachine[RequestState](
    name="federal request",
    initial=R.issued,
    transitions={
        (R.issued, "receive"): R.received,
        (R.issued, "cancel"): R.cancelled,
        (R.received, "decide"): R.decided,
        (R.decided, "respond"): R.responded,
        (R.decided, "relay"): R.decided,
        (R.responded, "relay"): R.decided,
        (R.responded, "fulfil"): R.fulfilled,
        (R.responded, "lapse"): R.lapsed,
        (R.responded, "close"): R.closed,
        (R.decided, "close"): R.closed,
        (R.received, "cancel"): R.cancelled,
        (R.decided, "cancel"): R.cancelled,
        (R.responded, "cancel"): R.cancelled,
    },
    automatic=frozenset({"receive", "decide", "relay", "fulfil", "lapse", "close"}),
)

ACTIVE = (R.issued, R.received, R.decided, R.responded)

# Forms and what each kind of request asks for when the officer does not list actions.
FORM_KIND = {
    "I-247": RequestKind.detainer,
    "I-247D": RequestKind.detainer,
    "I-247A": RequestKind.detainer,
    "I-247N": RequestKind.notification_request,
    "I-247X": RequestKind.transfer_request,
}
DEFAULT_ACTIONS = {
    RequestKind.detainer: (Action.notify, Action.hold, Action.transfer),
    RequestKind.notification_request: (Action.notify,),
    RequestKind.transfer_request: (Action.transfer,),
}


def check_form(form: Form, day: date, warrant: Warrant) -> None:
    """Refuse a form outside its period, or an I-247A without its administrative warrant."""
    if not form.in_use(day):
        raise InvalidInput(
            f"form {form.name} was not in use on {day} (it could be issued {form.period()}; "
            f"{form.citation}); use the form in use on that date"
        )
    if form.requires_administrative_warrant and warrant not in (Warrant.i_200, Warrant.i_205):
        raise InvalidInput(
            f"form {form.name} must be accompanied by a signed I-200 or I-205 administrative warrant "
            f"({form.citation}); attach one with --warrant I-200 or --warrant I-205"
        )
