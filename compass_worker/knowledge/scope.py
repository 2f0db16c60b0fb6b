"""Who may see a piece of knowledge: personal (one user), team (a team; a Slack channel maps to one) or org.

Every stored incident carries an `Ownership`; every read names a `Viewer`. A viewer sees org knowledge,
the knowledge of each team it belongs to, and its own personal knowledge — nothing else. Knowledge
only moves to a wider scope through an explicit, redacting promotion (see patterns.py).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from compass_worker.knowledge.errors import InvalidInput


class Scope(StrEnum):
    PERSONAL = "personal"
    TEAM = "team"
    ORG = "org"

    @property
    def width(self) -> int:
        return {"personal": 0, "team": 1, "org": 2}[self.value]


class Ownership(BaseModel):
    """Where a record belongs. personal needs an owner; team needs a team_id."""

    model_config = ConfigDict(frozen=True)
    scope: Scope
    owner: str | None = None
    team_id: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Ownership:
        if self.scope is Scope.PERSONAL and not self.owner:
            raise InvalidInput("personal knowledge needs an owner")
        if self.scope is Scope.TEAM and not self.team_id:
            raise InvalidInput("team knowledge needs a team id")
        return self

    @classmethod
    def personal(cls, user: str) -> Ownership:
        return cls(scope=Scope.PERSONAL, owner=user)

    @classmethod
    def team(cls, team_id: str) -> Ownership:
        return cls(scope=Scope.TEAM, team_id=team_id)

    @classmethod
    def org(cls) -> Ownership:
        return cls(scope=Scope.ORG)


class Viewer(BaseModel):
    """Who is asking. `user=None` is a service view (alert-triggered work): team and org knowledge only."""

    model_config = ConfigDict(frozen=True)
    user: str | None = None
    teams: tuple[str, ...] = ()

    def sees(self, ownership: Ownership) -> bool:
        if ownership.scope is Scope.ORG:
            return True
        if ownership.scope is Scope.TEAM:
            return ownership.team_id in self.teams
        return self.user is not None and ownership.owner == self.user

    def sql(self, alias: str, first_param: int) -> tuple[str, list[object]]:
        """A WHERE fragment over `<alias>.scope/owner/team_id`, using two parameters from `first_param`."""
        t, u = f"${first_param}", f"${first_param + 1}"
        clause = (
            f"({alias}.scope = 'org'"
            f" OR ({alias}.scope = 'team' AND {alias}.team_id = ANY({t}::text[]))"
            f" OR ({alias}.scope = 'personal' AND {alias}.owner = {u}::text))"
        )
        return clause, [list(self.teams), self.user]
