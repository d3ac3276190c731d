"""The people who use custody, each with a role and the jurisdiction the role is held in.

A jail officer or supervisor works for one agency (the OCD division of the government that runs
it); a federal officer for a field office whose area of responsibility is a list of divisions
(a state, or counties). The other roles are not tied to a jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from custody.domain.divisions import parse_division


class Role(StrEnum):
    jail_officer = "jail_officer"
    jail_supervisor = "jail_supervisor"
    federal_officer = "federal_officer"
    grant_administrator = "grant_administrator"
    analyst = "analyst"
    auditor = "auditor"
    administrator = "administrator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


LOCAL_ROLES = frozenset({Role.jail_officer, Role.jail_supervisor})


@dataclass(frozen=True)
class Principal:
    """The signed-in user, as the verified token says."""

    subject: str
    name: str
    role: Role
    agency: str | None = None  # local roles: the division of the agency they work for
    area: tuple[str, ...] = field(default_factory=tuple)  # federal officer: divisions of the field office's area
    office: str | None = None  # federal officer: the field office's name

    def __post_init__(self) -> None:
        if self.role in LOCAL_ROLES and not self.agency:
            raise ValueError(f"a {self.role.label.lower()} works for one agency: give --agency DIVISION")
        if self.role == Role.federal_officer and not self.area:
            raise ValueError("a federal officer works for a field office: give its area with --area DIVISION")
        if self.agency:
            object.__setattr__(self, "agency", parse_division(self.agency).id)
        object.__setattr__(self, "area", tuple(parse_division(a).id for a in self.area))

    @property
    def actor(self) -> str:
        """How the audit log names this user: role and subject."""
        return f"{self.role.value}:{self.subject}"

    @property
    def jurisdiction(self) -> str:
        """A short description of where this user's authority runs, for pages and error messages."""
        if self.agency:
            return self.agency
        if self.area:
            return ", ".join(self.area)
        return "all jurisdictions"

    @property
    def place(self) -> str:
        """The jurisdiction in a few words, for buttons and headings."""
        if self.office:
            return self.office
        if self.agency:
            return self.agency.rsplit(":", 1)[-1].replace("_", " ").replace("-", " ").title()
        return "all jurisdictions"

    def covers(self, division: str) -> bool:
        """Whether ``division`` is inside this user's agency or area (a division covers those under it)."""
        if self.agency:
            return division == self.agency
        return any(division == a or division.startswith(a + "/") for a in self.area)


COOK = "ocd-division/country:us/state:il/county:cook"
CHICAGO = "ocd-division/country:us/state:il/place:chicago"
MIAMI_DADE = "ocd-division/country:us/state:fl/county:miami-dade"
ILLINOIS = "ocd-division/country:us/state:il"
FLORIDA = "ocd-division/country:us/state:fl"

# The demo's users: one per role and jurisdiction the seed scenarios touch. The sign-in page offers
# them while the local development issuer is on; a real deployment's identity provider replaces them.
DEMO_USERS: dict[str, Principal] = {
    p.subject: p
    for p in (
        Principal("demo-jail-officer-cook", "J. Rivera (Cook County jail records)", Role.jail_officer, agency=COOK),
        Principal("demo-jail-supervisor-cook", "M. Okafor (Cook County jail supervisor)", Role.jail_supervisor, COOK),
        Principal("demo-jail-officer-chicago", "T. Nowak (Chicago police lockup)", Role.jail_officer, agency=CHICAGO),
        Principal(
            "demo-jail-officer-miami-dade", "A. Castillo (Miami-Dade Corrections)", Role.jail_officer, MIAMI_DADE
        ),
        Principal(
            "demo-jail-supervisor-miami-dade",
            "L. Pierre (Miami-Dade Corrections supervisor)",
            Role.jail_supervisor,
            MIAMI_DADE,
        ),
        Principal(
            "demo-federal-officer-chicago",
            "R. Alvarez (ERO Chicago)",
            Role.federal_officer,
            area=(ILLINOIS,),
            office="ERO Chicago Field Office",
        ),
        Principal(
            "demo-federal-officer-miami",
            "D. Brooks (ERO Miami)",
            Role.federal_officer,
            area=(FLORIDA,),
            office="ERO Miami Field Office",
        ),
        Principal("demo-grant-administrator", "P. Singh (grant administrator)", Role.grant_administrator),
        Principal("demo-analyst", "K. Lee (policy analyst)", Role.analyst),
        Principal("demo-auditor", "S. Haddad (auditor)", Role.auditor),
        Principal("demo-administrator", "E. Novak (administrator)", Role.administrator),
    )
}
