"""Writes docs/state-machines.md from the transition tables, so the drawings cannot drift from the
code: `python -m custody.docs` (a test fails when the file is stale)."""

from __future__ import annotations

import sys
from pathlib import Path

from custody.booking.model import CUSTODY
from custody.identity.model import IDENTIFICATION
from custody.release.model import HOLD
from custody.requests.model import REQUEST

HEADER = """# State machines

Generated from the transition tables in code by `python -m custody.docs`; a test fails if this file
and the tables differ. An event not drawn here is refused with the events allowed in that state.

## Booking: the person's custody

`src/custody/booking/model.py`. `release` happens at release eligibility when no hold or hand-over
is allowed; `start_hold` when the agency honored a hold and the law allows more than 0 hours;
`lapse_hold` when the hold ends without a hand-over: it reached its legal limit (the person is
released at that limit) or the request it rested on was cancelled (released at the cancellation);
`transfer_to_federal` when federal officers take custody during a hold or at release, where
the agency honored the transfer, or the hold without declining the transfer, on a request in
effect (an I-247A only once served).

```mermaid
{custody}
```

## Federal request: detainer, notification request, transfer request

`src/custody/requests/model.py`. The federal side issues a request; it reaches the agency as a
message (`receive`) and is decided under the law at once (`decide`), and decided anew for the new
agency when the person moves (`relay`); the federal side may withdraw it (`cancel`) at any point
before it ends, which ends a hold resting on it; the agency's answer
(`respond`) must agree with the decision; a hold ends it as `fulfil` (handed over) or `lapse`; a
release without hold or hand-over ends it as `close`.

```mermaid
{request}
```

## Identification by fingerprints: the examiner's decision

`src/custody/identity/model.py`. A booking's prints that rank a repository identity at or above
the threshold (`CUSTODY_MATCH_THRESHOLD`), or that contradict the prints on file of the person its
identifiers name, open an identification `awaiting_examiner`; the examiner `confirm`s a candidate
(the agency gets the hit with the record) or `reject`s them all (the booking is answered by its
identifiers, as without prints, never naming a candidate rejected). With
`CUSTODY_EXAMINER_CONFIRMATION=auto` the search confirms its best candidate at once, or rejects
candidates the prints on file contradict when there is no other, recorded as automatic. See
docs/fingerprints.md.

```mermaid
{identification}
```

## Detainer hold: the hours past release

`src/custody/release/model.py`. A hold starts `active` when the person reaches release eligibility
and the agency honored a hold the law allows (its expiry from the hold clock, docs/law.md); it ends
once: `hand_over` when federal officers take custody before the expiry, `lapse` when the expiry
passes (`custody tick`, or a worker's timer), `cancel` when the federal side withdraws the request.
Before a hold starts, the law is asked again for the day of release eligibility
(`requests.service.recheck`): a hold the law of that day forbids never starts, and one it limits
more keeps the stricter limit. A lapse is recorded as ending at the limit, when the person had to go
free; a timer that ran more than five minutes late, or a hand-over recorded more than five minutes
after the limit, is logged (`custody.release`) so that the jail can check no one was held past it.

```mermaid
{hold}
```
"""


def render() -> str:
    return HEADER.format(
        custody=CUSTODY.mermaid(),
        request=REQUEST.mermaid(),
        identification=IDENTIFICATION.mermaid(),
        hold=HOLD.mermaid(),
    )


def write_generated(text: str, module: str, default: str, argv: list[str]) -> int:
    """``python -m <module> [FILE]``: write a generated document to FILE (or its usual place). An
    option is not a file name: ``--help`` once wrote a file called "--help"."""
    if len(argv) > 2 or any(a.startswith("-") for a in argv[1:]):
        print(f"usage: python -m {module} [FILE]   (default: {default})", file=sys.stderr)
        return 0 if argv[1:2] in (["--help"], ["-h"]) else 2
    target = Path(argv[1]) if len(argv) > 1 else Path(default)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(write_generated(render(), "custody.docs", "docs/state-machines.md", sys.argv))
