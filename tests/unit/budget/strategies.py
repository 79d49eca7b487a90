"""Hypothesis strategies for budget instances, and a bridge to pabutools for differential tests."""

from __future__ import annotations

from fractions import Fraction
from types import MappingProxyType

from hypothesis import strategies as st

from stemmen.budget.model import Instance, Profile, Project, Voter, VoteType
from stemmen.budget.pabulib import write_pabulib

# Ids whose text order differs from their numeric order ("10" < "2"), as in real files.
PROJECT_IDS = st.lists(
    st.one_of(
        st.integers(min_value=1, max_value=40).map(str),
        st.text(alphabet="ABC./-", min_size=1, max_size=3).map(lambda text: f"P{text}"),
    ),
    min_size=1,
    max_size=7,
    unique=True,
)
PLAIN_IDS = st.lists(
    st.integers(min_value=1, max_value=40).map(str), min_size=1, max_size=7, unique=True
)


@st.composite
def elections(
    draw: st.DrawFn,
    vote_types: tuple[VoteType, ...] = ("approval",),
    max_voters: int = 12,
    max_cost: int = 30,
    allow_zero_cost: bool = True,
    channels: tuple[str, ...] = (),
    plain_ids: bool = False,
) -> tuple[Instance, Profile]:
    """A small election: few projects, small integer costs, a few voters.

    ``plain_ids``: digits only, for tools that put ids into solver variable names (pulp).
    """
    vote_type = draw(st.sampled_from(vote_types))
    ids = draw(PLAIN_IDS if plain_ids else PROJECT_IDS)
    low = 0 if allow_zero_cost else 1
    costs = [draw(st.integers(min_value=low, max_value=max_cost)) for _ in ids]
    budget = draw(st.integers(min_value=0, max_value=max(1, sum(costs))))
    projects = tuple(Project(id=pid, cost=cost) for pid, cost in zip(ids, costs, strict=True))
    voters = []
    count = draw(st.integers(min_value=1, max_value=max_voters))
    for number in range(count):
        chosen = draw(
            st.lists(
                st.integers(min_value=0, max_value=len(ids) - 1),
                unique=True,
                min_size=0 if vote_type == "approval" else 1,
                max_size=len(ids),
            )
        )
        points = None
        if vote_type in ("cumulative", "scoring"):
            points = tuple(draw(st.integers(min_value=1, max_value=5)) for _ in chosen)
        attributes: MappingProxyType[str, str] = MappingProxyType({})
        if channels:
            attributes = MappingProxyType({"voting_method": draw(st.sampled_from(channels))})
        voters.append(
            Voter(id=f"v{number}", projects=tuple(chosen), points=points, attributes=attributes)
        )
    instance = Instance(
        projects=projects,
        budget=budget,
        unit=1,
        meta=MappingProxyType({"budget": str(budget), "vote_type": vote_type}),
        project_columns=("project_id", "cost"),
    )
    columns = ("voter_id", "vote") + (("points",) if vote_type in ("cumulative", "scoring") else ())
    if channels:
        columns += ("voting_method",)
    return instance, Profile(vote_type=vote_type, voters=tuple(voters), voter_columns=columns)


def to_pabutools(instance: Instance, profile: Profile):  # type: ignore[no-untyped-def]
    """The same election as pabutools objects, through the pabulib text."""
    from pabutools.election.pabulib import parse_pabulib_from_string

    return parse_pabulib_from_string(write_pabulib(instance, profile))


def pabutools_ids(allocation) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(project.name for project in allocation)


def total(values: list[int] | list[Fraction], chosen: set[int]) -> Fraction:
    return sum((Fraction(values[index]) for index in chosen), Fraction(0))
