"""Whatever a clerk uploads, validation answers with problems, never with a crash: every
document is either refused with named problems or loads into the typed view."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.rules import load_ruleset, validate_ruleset
from tests.support import PROJECT_ROOT

EXAMPLES = [
    json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((PROJECT_ROOT / "examples" / "rulesets").glob("*.json"))
]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3_000_000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        ["", "GM0268", "WK026801", "lottery", "id", "grades", "scores", "mes", "voting", "x"]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["min", "max", "labels", "votes", "x"]), children, max_size=3
        )
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(paths(child, (*prefix, index)))
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(document)[1:]))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "max_age", "scale", "ranking", "tally"]))] = draw(
                JSON
            )
        else:
            parent[path[-1]] = draw(JSON)
    return document


@settings(max_examples=300, deadline=None)
@given(mutated_documents())
def test_any_mutated_rule_set_is_refused_with_problems_or_loads(document: dict[str, Any]) -> None:
    problems = validate_ruleset(document)
    for problem in problems:
        assert problem.path.startswith("/")
        assert problem.message_en
        assert problem.message_nl
    if not problems:
        ruleset = load_ruleset(document)
        assert ruleset.ballot.format == document["ballot"]["format"]
