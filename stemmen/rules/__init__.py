"""The council's rule sets (kader) as data. Importing this package loads only the pure core."""

from .document import (
    RuleSet,
    RuleSetInvalid,
    RuleSetProblem,
    canonical_json,
    check_round_against_bounds,
    load_ruleset,
    ruleset_hash,
    ruleset_schema,
    schema_document,
    validate_ruleset,
)

__all__ = [
    "RuleSet",
    "RuleSetInvalid",
    "RuleSetProblem",
    "canonical_json",
    "check_round_against_bounds",
    "load_ruleset",
    "ruleset_hash",
    "ruleset_schema",
    "schema_document",
    "validate_ruleset",
]
