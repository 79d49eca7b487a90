"""Small rounds run the way the service runs them, published as bundles for the verifier.

Each builder logs every event a real round logs, in order, casts random ballots with
receipts (some replaced by a later ballot, some on paper in a confirmed batch), computes the
result with the pure engine and assembles the bundle. Tests tamper with copies of it.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stemmen.audit.bundle import (
    AreaBallot,
    assemble_bundle,
    budget_area_pabulib,
    publishable_allocation,
    results_hash,
    round_frame_hash,
)
from stemmen.audit.canonical import canonical_bytes, canonical_hash
from stemmen.audit.chain import LogEntry, append
from stemmen.audit.merkle import receipt_root
from stemmen.audit.receipts import (
    budget_ballot_record,
    commit_seed,
    make_receipt,
    preferendum_ballot_record,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEED = "5eed" * 16

BUDGET_RULESET: dict[str, Any] = {
    "schema_version": 1,
    "instrument": "wijkbudget",
    "title": "Wijkbudget test",
    "council_decision": {"reference": "RV 2026-001", "date": "2026-01-15", "binding": True},
    "eligibility": {"min_age": 16, "areas": ["GM0268"], "one_ballot_per": "area"},
    "phases": ["submission", "review", "voting"],
    "ballot": {"format": "approval", "revote": "last_counts", "channels": ["online", "paper"]},
    "allocation": {"rule": "greedy"},
    "tie_break": ["more-support", "lower-cost", "lottery"],
    "publication": {"cast_vote_record": True, "min_group_size": 10},
}

PREFERENDUM_RULESET: dict[str, Any] = {
    "schema_version": 1,
    "instrument": "preferendum",
    "title": "Preferendum test",
    "council_decision": {"reference": "RV 2026-002", "date": "2026-01-15", "binding": False},
    "eligibility": {"min_age": 16, "areas": ["GM0268"], "one_ballot_per": "round"},
    "phases": ["voting"],
    "ballot": {
        "format": "grades",
        "allow_abstain": True,
        "revote": "last_counts",
        "channels": ["online"],
        "scale": {
            "labels": ["zeer tegen", "tegen", "neutraal", "voor", "zeer voor"],
            "blank_allowed": True,
        },
    },
    "tally": {"method": "majority-judgment", "quorum": {"min_turnout": 20, "min_graders": 5}},
    "tie_break": ["lottery"],
    "publication": {"cast_vote_record": True, "min_group_size": 10},
}

AREAS = [
    {
        "code": "WK026801",
        "name": "Bottendaal",
        "budget_cents": 10_000_00,
        "projects": [
            {"id": "p1", "name": "Bankjes", "cost_cents": 2_500_00},
            {"id": "p2", "name": "Speeltuin", "cost_cents": 6_000_00},
            {"id": "p3", "name": "Boomspiegels", "cost_cents": 1_250_50},
            {"id": "p4", "name": "Buurtfeest", "cost_cents": 3_000_00},
            {"id": "p5", "name": "Geveltuinen", "cost_cents": 4_000_00},
        ],
    },
    {
        "code": "WK026802",
        "name": "Altrade",
        "budget_cents": 5_000_00,
        "projects": [
            {"id": "a1", "name": "Moestuin", "cost_cents": 2_000_00},
            {"id": "a2", "name": "Fietsenrek", "cost_cents": 1_500_00},
            {"id": "a3", "name": "Muurschildering", "cost_cents": 3_000_00},
        ],
    },
]

QUESTIONS = [
    {
        "id": "q1",
        "text": "Wat moet er met het Keizer Karelplein gebeuren?",
        "method": "borda",
        "options": [
            {"id": "groen", "label": "Meer groen"},
            {"id": "auto", "label": "Autovrij"},
            {"id": "markt", "label": "Markt"},
            {"id": "niets", "label": "Niets"},
        ],
    },
    {
        "id": "q2",
        "text": "Hoe staat u tegenover deze maatregelen?",
        "method": "majority-judgment",
        "options": [
            {"id": "m1", "label": "30 km"},
            {"id": "m2", "label": "Parkeren"},
            {"id": "m3", "label": "Bomen"},
        ],
    },
]


@dataclass
class RoundLog:
    round_id: str
    entries: list[LogEntry] = field(default_factory=list)
    clock: datetime = START

    def log(
        self,
        kind: str,
        payload: dict[str, Any],
        role: str = "official",
        actor: str | None = "j.devries",
    ) -> LogEntry:
        self.clock += timedelta(minutes=7)
        entry = append(
            self.entries[-1] if self.entries else None,
            at=self.clock,
            round_id=self.round_id,
            kind=kind,
            actor_role=role,
            actor=actor,
            payload=payload,
        )
        self.entries.append(entry)
        return entry

    def phase(self, source: str, target: str, **extra: Any) -> None:
        self.log("round.phase_changed", {"from": source, "to": target, **extra})

    def phases(self) -> list[dict[str, Any]]:
        changes = [e for e in self.entries if e.kind == "round.phase_changed"]
        return [
            {
                "phase": e.payload["to"],
                "start": e.at,
                "end": changes[i + 1].at if i + 1 < len(changes) else None,
            }
            for i, e in enumerate(changes)
        ]


def engine_options_of(allocation: dict[str, Any]) -> dict[str, Any]:
    """The budget engine's option names for a rule set's allocation, as the service maps them."""
    options = {k: v for k, v in allocation.items() if k not in ("rule", "min_support")}
    minimum = allocation.get("min_support")
    if minimum and "votes" in minimum:
        options["threshold"] = minimum["votes"]
    return options


@dataclass
class PublishedRound:
    bundle: dict[str, Any]
    codes: list[str]  # receipt codes of the counted ballots
    superseded_codes: list[str]

    def copy(self) -> dict[str, Any]:
        return copy.deepcopy(self.bundle)


def _cast(rng: random.Random, log: RoundLog, content: dict[str, Any], extra: dict[str, Any]):
    receipt = make_receipt(canonical_bytes(content), rng.randbytes(32))
    log.log("ballot.accepted", {"receipt": receipt.hash, **extra}, role="resident", actor=None)
    return receipt


def budget_round(
    voters: int = 60, seed: int = 7, allocation: dict[str, Any] | None = None
) -> PublishedRound:
    """A two-district budget round; ``allocation`` replaces the rule set's (default greedy)."""
    from stemmen.budget.pabulib import parse_pabulib
    from stemmen.budget.registry import allocate

    rng = random.Random(seed)
    round_id = "r-budget-1"
    ruleset = copy.deepcopy(BUDGET_RULESET)
    if allocation is not None:
        ruleset["allocation"] = allocation
    rule = ruleset["allocation"]["rule"]
    engine_options = engine_options_of(ruleset["allocation"])
    round_definition = {
        "id": round_id,
        "title": "Wijkbudget Nijmegen-Oost 2026",
        "instrument": "wijkbudget",
        "ruleset_hash": canonical_hash(ruleset),
        "areas": copy.deepcopy(AREAS),
    }
    log = RoundLog(round_id)
    log.log("round.created", {"ruleset_hash": round_definition["ruleset_hash"]})
    log.phase("draft", "submission")
    log.phase("submission", "review")
    for area in AREAS:
        for project in area["projects"]:
            log.log(
                "proposal.reviewed",
                {
                    "proposal": project["id"],
                    "decision": "accepted",
                    "cost_cents": project["cost_cents"],
                },
            )
    log.phase(
        "review",
        "voting",
        ruleset_hash=round_definition["ruleset_hash"],
        round_hash=round_frame_hash(round_definition),
    )
    log.log("seed.committed", {"commitment": commit_seed(SEED)})

    counted: dict[str, tuple[str, AreaBallot, str]] = {}
    superseded_codes = []
    for voter in range(voters):
        area = AREAS[voter % 2]
        ids = [p["id"] for p in area["projects"]]
        vote = tuple(rng.sample(ids, rng.randint(1, len(ids))))
        nonce = rng.randbytes(32)
        content = budget_ballot_record(round_id, area["code"], vote)
        receipt = make_receipt(canonical_bytes(content), nonce)
        paper = voter % 10 == 9
        extra = {"area": area["code"], "channel": "paper" if paper else "online"}
        if paper:
            extra["batch"] = "paper-1"
        log.log(
            "ballot.accepted",
            {"receipt": receipt.hash, **extra},
            role="official" if paper else "resident",
            actor="p.clerk" if paper else None,
        )
        key = f"voter-{voter}"
        counted[key] = (
            area["code"],
            AreaBallot(receipt.hash, nonce.hex(), vote, channel="paper" if paper else "online"),
            receipt.code,
        )
        if voter % 13 == 4:  # this voter changes their mind before the close
            new_vote = tuple(rng.sample(ids, 1))
            nonce = rng.randbytes(32)
            content = budget_ballot_record(round_id, area["code"], new_vote)
            replacement = make_receipt(canonical_bytes(content), nonce)
            log.log(
                "ballot.accepted",
                {"receipt": replacement.hash, **extra},
                role="resident",
                actor=None,
            )
            log.log(
                "ballot.superseded",
                {"receipt": receipt.hash, "by": replacement.hash},
                role="resident",
                actor=None,
            )
            superseded_codes.append(receipt.code)
            counted[key] = (
                area["code"],
                AreaBallot(replacement.hash, nonce.hex(), new_vote, channel="online"),
                replacement.code,
            )
    log.log(
        "paper_batch.confirmed", {"batch": "paper-1", "confirmed_by": "k.tweede"}, actor="k.tweede"
    )
    log.phase("voting", "closed")
    receipts = sorted(ballot.receipt for _, ballot, _ in counted.values())
    log.log(
        "round.closed",
        {"merkle_root": receipt_root(receipts), "ballots": len(receipts)},
        role="system",
        actor=None,
    )

    areas_record = []
    results = []
    for area in AREAS:
        ballots = [b for code, b, _ in counted.values() if code == area["code"]]
        text = budget_area_pabulib(
            round_definition=round_definition,
            area_code=area["code"],
            vote_type="approval",
            ballots=ballots,
        )
        areas_record.append({"area": area["code"], "pabulib": text})
        instance, profile = parse_pabulib(text)
        outcome = allocate(
            instance,
            profile,
            rule,
            tie_break=f"more-support,lower-cost,lottery:{SEED}",
            **engine_options,
        )
        results.append(
            {"area": area["code"], "allocation": publishable_allocation(outcome.to_json())}
        )
    log.log("seed.revealed", {"seed": SEED})
    log.log("result.published", {"results_hash": results_hash(results)})
    log.phase("closed", "published")
    round_definition["phases"] = log.phases()
    bundle = assemble_bundle(
        round_definition=round_definition,
        ruleset_document=ruleset,
        cast_vote_record={"format": "pabulib", "areas": areas_record},
        results=results,
        log_entries=log.entries,
        seed=SEED,
        seed_commitment=commit_seed(SEED),
    )
    return PublishedRound(bundle, [code for _, _, code in counted.values()], superseded_codes)


def preferendum_round(
    voters: int = 50, seed: int = 11, per_question: bool = False
) -> PublishedRound:
    """A two-question preferendum; ``per_question`` publishes one result item per question
    (tallied question by question, with the quorum counts) instead of one preferendum result."""
    from stemmen.tally.jsonio import parse_preferendum, parse_question_ballots
    from stemmen.tally.preferendum import TallyOptions, tally_preferendum, tally_question

    rng = random.Random(seed)
    round_id = "r-pref-1"
    round_definition = {
        "id": round_id,
        "title": "Preferendum Keizer Karelplein",
        "instrument": "preferendum",
        "ruleset_hash": canonical_hash(PREFERENDUM_RULESET),
        "questions": copy.deepcopy(QUESTIONS),
    }
    log = RoundLog(round_id)
    log.log("round.created", {"ruleset_hash": round_definition["ruleset_hash"]})
    log.phase(
        "draft",
        "voting",
        ruleset_hash=round_definition["ruleset_hash"],
        round_hash=round_frame_hash(round_definition),
    )
    log.log("seed.committed", {"commitment": commit_seed(SEED)}, role="system", actor=None)
    labels = PREFERENDUM_RULESET["ballot"]["scale"]["labels"]
    ballots = []
    codes = []
    for _ in range(voters):
        answers: dict[str, Any] = {}
        if rng.random() < 0.9:
            order = ["groen", "auto", "markt", "niets"]
            rng.shuffle(order)
            cut = rng.randint(1, 4)
            answers["q1"] = {"ranking": [[option] for option in order[:cut]]}
        grades = {m: rng.choice(labels) for m in ("m1", "m2", "m3") if rng.random() < 0.85}
        if grades:
            answers["q2"] = {"grades": grades}
        nonce = rng.randbytes(32)
        receipt = make_receipt(canonical_bytes(preferendum_ballot_record(round_id, answers)), nonce)
        log.log(
            "ballot.accepted",
            {"receipt": receipt.hash, "channel": "online"},
            role="resident",
            actor=None,
        )
        ballots.append({"receipt": receipt.hash, "nonce": nonce.hex(), "answers": answers})
        codes.append(receipt.code)
    ballots.sort(key=lambda ballot: ballot["receipt"])
    log.phase("voting", "closed", actor=None, role="system")
    receipts = [ballot["receipt"] for ballot in ballots]
    log.log(
        "round.closed",
        {"merkle_root": receipt_root(receipts), "ballots": len(receipts)},
        role="system",
        actor=None,
    )
    # The service tallies the whole preferendum with the tally engine's own record.
    record = {
        "questions": [
            {
                "id": question["id"],
                "options": [option["id"] for option in question["options"]],
                "method": question["method"],
                "scale": {"labels": labels},
                "tie_break": [f"lottery:{SEED}"],
            }
            for question in QUESTIONS
        ],
        "ballots": [{"answers": ballot["answers"]} for ballot in ballots],
        "quorum": PREFERENDUM_RULESET["tally"].get("quorum", {}),
    }
    outcome = tally_preferendum(parse_preferendum(record))
    results = [{"preferendum": outcome.to_json()}]
    if per_question:
        results = []
        for spec in record["questions"]:
            answers = [b["answers"][spec["id"]] for b in ballots if spec["id"] in b["answers"]]
            single = {"options": spec["options"], "scale": spec["scale"], "ballots": answers}
            options = TallyOptions(method=spec["method"], tie_break=tuple(spec["tie_break"]))
            question_tally = tally_question(parse_question_ballots(single), options)
            results.append(
                {
                    "question": spec["id"],
                    "tally": question_tally.to_json(),
                    "quorum": {"turnout": len(ballots), "participation": len(answers)},
                }
            )
    log.log("seed.revealed", {"seed": SEED}, role="system", actor=None)
    log.log("result.published", {"results_hash": results_hash(results)})
    log.phase("closed", "published")
    round_definition["phases"] = log.phases()
    bundle = assemble_bundle(
        round_definition=round_definition,
        ruleset_document=PREFERENDUM_RULESET,
        cast_vote_record={"format": "stemmen-ballots/1", "ballots": ballots},
        results=results,
        log_entries=log.entries,
        seed=SEED,
        seed_commitment=commit_seed(SEED),
    )
    return PublishedRound(bundle, codes, [])


def rehash(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Renumber and re-hash a whole log, as an attacker holding the database could."""
    rebuilt: list[LogEntry] = []
    for raw in entries:
        rebuilt.append(
            append(
                rebuilt[-1] if rebuilt else None,
                at=raw["at"],
                round_id=raw["round_id"],
                kind=raw["kind"],
                actor_role=raw["actor_role"],
                actor=raw["actor"],
                payload=raw["payload"],
            )
        )
    return [entry.to_json() for entry in rebuilt]


def real_budget_round(path, allocation: dict[str, Any], seed: int = 3) -> PublishedRound:
    """A round whose projects and ballots are those of a real pabulib file, run and published."""
    from stemmen.budget.pabulib import parse_pabulib, read_pabulib
    from stemmen.budget.registry import allocate

    rng = random.Random(seed)
    source, votes = read_pabulib(path)
    if source.unit != 1:
        raise ValueError("the test takes files with whole-euro costs")
    round_id = "r-real-1"
    ruleset = {**copy.deepcopy(BUDGET_RULESET), "allocation": allocation}
    area_code = "GM0106"
    round_definition = {
        "id": round_id,
        "title": source.meta.get("description", "real round"),
        "instrument": "buurtbegroting",
        "ruleset_hash": canonical_hash(ruleset),
        "areas": [
            {
                "code": area_code,
                "name": source.meta.get("unit", ""),
                "budget_cents": source.budget * 100,
                "projects": [
                    {"id": p.id, "name": p.name, "cost_cents": p.cost * 100}
                    for p in source.projects
                ],
            }
        ],
    }
    ruleset = {**ruleset, "instrument": "buurtbegroting"}
    round_definition["ruleset_hash"] = canonical_hash(ruleset)
    log = RoundLog(round_id)
    log.log("round.created", {"ruleset_hash": round_definition["ruleset_hash"]})
    log.phase(
        "draft",
        "voting",
        ruleset_hash=round_definition["ruleset_hash"],
        round_hash=round_frame_hash(round_definition),
    )
    log.log("seed.committed", {"commitment": commit_seed(SEED)}, role="system", actor=None)
    ballots = []
    codes = []
    for voter in votes.voters:
        vote = tuple(source.projects[i].id for i in voter.projects)
        nonce = rng.randbytes(32)
        content = budget_ballot_record(round_id, area_code, vote, voter.points)
        receipt = make_receipt(canonical_bytes(content), nonce)
        log.log(
            "ballot.accepted",
            {"receipt": receipt.hash, "channel": "online", "area": area_code},
            role="resident",
            actor=None,
        )
        ballots.append(AreaBallot(receipt.hash, nonce.hex(), vote, voter.points))
        codes.append(receipt.code)
    log.phase("voting", "closed", role="system", actor=None)
    receipts = sorted(ballot.receipt for ballot in ballots)
    log.log(
        "round.closed",
        {"merkle_root": receipt_root(receipts), "ballots": len(receipts)},
        role="system",
        actor=None,
    )
    text = budget_area_pabulib(
        round_definition=round_definition,
        area_code=area_code,
        vote_type=votes.vote_type,
        ballots=ballots,
        meta={"min_length": str(votes.min_length or "")},
    )
    instance, profile = parse_pabulib(text)
    outcome = allocate(
        instance,
        profile,
        allocation["rule"],
        tie_break=f"more-support,lower-cost,lottery:{SEED}",
        **engine_options_of(allocation),
    )
    results = [{"area": area_code, "allocation": publishable_allocation(outcome.to_json())}]
    log.log("seed.revealed", {"seed": SEED}, role="system", actor=None)
    log.log("result.published", {"results_hash": results_hash(results)})
    log.phase("closed", "published")
    round_definition["phases"] = log.phases()
    bundle = assemble_bundle(
        round_definition=round_definition,
        ruleset_document=ruleset,
        cast_vote_record={"format": "pabulib", "areas": [{"area": area_code, "pabulib": text}]},
        results=results,
        log_entries=log.entries,
        seed=SEED,
        seed_commitment=commit_seed(SEED),
    )
    return PublishedRound(bundle, codes, [])
