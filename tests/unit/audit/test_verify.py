"""Bundle verification: an honest round verifies; every attack is caught and said where."""

from __future__ import annotations

import copy
import json
from functools import cache

import pytest

from stemmen.audit.bundle import dump_bundle, load_bundle, results_hash
from stemmen.audit.canonical import canonical_bytes, canonical_hash
from stemmen.audit.merkle import receipt_root
from stemmen.audit.receipts import make_receipt, preferendum_ballot_record
from stemmen.audit.verify import verify_bundle, verify_receipt

from .rounds import SEED, budget_round, preferendum_round, rehash


@cache
def _budget():
    return budget_round()


@cache
def _preferendum():
    return preferendum_round()


@pytest.fixture
def budget():
    return _budget().copy()


@pytest.fixture
def preferendum():
    return _preferendum().copy()


def found(bundle, heads=()) -> set[str]:
    return {finding.check for finding in verify_bundle(bundle, heads).findings}


def entry_index(bundle, kind, nth=0):
    matches = [i for i, e in enumerate(bundle["log"]["entries"]) if e["kind"] == kind]
    return matches[nth]


def vote_lines(bundle, area=0):
    text = bundle["cast_vote_record"]["areas"][area]["pabulib"]
    lines = text.split("\n")
    start = lines.index("VOTES") + 2
    return lines, start


def set_vote_lines(bundle, lines, area=0):
    bundle["cast_vote_record"]["areas"][area]["pabulib"] = "\n".join(lines)


# --------------------------------------------------------------------------- honest rounds


def test_an_honest_budget_round_verifies(budget):
    report = verify_bundle(budget)
    assert report.ok, report.render()
    text = report.render()
    assert "OK   chain: 89 entries, head " in text
    assert "OK   counts: 65 accepted - 5 superseded = 60; 60 published" in text
    assert text.endswith("VERIFIED: every check passed")


def test_an_honest_preferendum_verifies(preferendum):
    report = verify_bundle(preferendum)
    assert report.ok, report.render()
    assert "recomputed 2 questions" in report.render()


def test_a_bundle_survives_writing_and_reading(budget):
    assert verify_bundle(load_bundle(dump_bundle(budget))).ok


def test_the_bundle_file_is_canonical_json_so_its_hash_is_stable(budget):
    assert dump_bundle(budget) == dump_bundle(json.loads(dump_bundle(budget)))


def test_a_head_published_at_the_close_is_witnessed(budget):
    closed = budget["log"]["entries"][entry_index(budget, "round.closed")]
    report = verify_bundle(budget, [closed["hash"]])
    assert report.ok
    assert f"matches published head at seq {closed['seq']}" in report.render()


# --------------------------------------------------------------------------- ballots


def test_an_edited_ballot_is_caught_by_its_receipt(budget):
    lines, start = vote_lines(budget)
    receipt, vote, *rest = lines[start].split(";")
    lines[start] = ";".join(
        [receipt, "p1,p2,p3,p4,p5" if vote != "p1,p2,p3,p4,p5" else "p1", *rest]
    )
    set_vote_lines(budget, lines)
    report = verify_bundle(budget)
    assert "ballots.receipt" in {f.check for f in report.findings}
    assert any("WK026801, ballot 1" in f.where for f in report.findings)


def test_a_deleted_ballot_is_caught_even_when_the_tree_is_rebuilt(budget):
    lines, start = vote_lines(budget)
    removed = lines.pop(start).split(";")[0]
    set_vote_lines(budget, lines)
    budget["receipts"].remove(removed)
    budget["merkle_root"] = receipt_root(budget["receipts"])
    checks = found(budget)
    assert {"counts.missing", "merkle.logged"} <= checks


def test_an_inserted_ballot_is_caught_even_with_a_valid_receipt(budget):
    lines, start = vote_lines(budget)
    nonce = bytes(32)
    from stemmen.audit.receipts import budget_ballot_record

    record = budget_ballot_record("r-budget-1", "WK026801", ["p2"])
    receipt = make_receipt(canonical_bytes(record), nonce).hash
    columns = lines[start].split(";")
    lines.insert(start, ";".join([receipt, "p2", nonce.hex(), *columns[3:]]))
    body = sorted(line for line in lines[start:] if line)
    set_vote_lines(budget, [*lines[:start], *body, ""])
    budget["receipts"] = sorted([*budget["receipts"], receipt])
    budget["merkle_root"] = receipt_root(budget["receipts"])
    checks = found(budget)
    assert {"counts.extra", "merkle.logged"} <= checks
    assert "ballots.receipt" not in checks


def test_a_superseded_ballot_counted_again_is_caught(budget):
    superseded = next(e for e in budget["log"]["entries"] if e["kind"] == "ballot.superseded")
    budget["receipts"] = sorted([*budget["receipts"], superseded["payload"]["receipt"]])
    budget["merkle_root"] = receipt_root(budget["receipts"])
    report = verify_bundle(budget)
    assert any(f.check == "counts.extra" and "was superseded" in f.message for f in report.findings)


def test_ballots_out_of_receipt_order_are_flagged_as_a_secrecy_risk(budget):
    lines, start = vote_lines(budget)
    lines[start], lines[start + 1] = lines[start + 1], lines[start]
    set_vote_lines(budget, lines)
    assert "cvr.order" in found(budget)


# --------------------------------------------------------------------------- frame and result


def test_a_rule_set_changed_after_opening_is_caught(budget):
    budget["ruleset"]["document"]["allocation"] = {"rule": "greedy-per-cost"}
    new_hash = canonical_hash(budget["ruleset"]["document"])
    budget["ruleset"]["hash"] = new_hash
    budget["round"]["ruleset_hash"] = new_hash
    assert "ruleset.logged" in found(budget)


def test_a_rule_set_document_that_does_not_match_its_hash_is_caught(budget):
    budget["ruleset"]["document"]["title"] = "Anders"
    assert {"ruleset.hash", "ruleset.pinned"} <= found(budget)


def test_a_budget_raised_after_opening_is_caught(budget):
    budget["round"]["areas"][0]["budget_cents"] += 500_000
    assert "round.frame" in found(budget)


def test_a_changed_project_cost_in_the_record_is_caught(budget):
    text = budget["cast_vote_record"]["areas"][0]["pabulib"]
    budget["cast_vote_record"]["areas"][0]["pabulib"] = text.replace("p2;6000", "p2;600", 1)
    assert "cvr.projects" in found(budget)


def test_a_changed_stored_result_is_caught_twice(budget):
    allocation = budget["results"][0]["allocation"]
    allocation["selected"] = allocation["selected"][:-1]
    assert {"result.logged", "result.recomputed"} <= found(budget)


def test_a_changed_result_with_a_rewritten_log_is_still_recomputed(budget):
    budget["results"][0]["allocation"]["selected"] = ["p2"]
    index = entry_index(budget, "result.published")
    budget["log"]["entries"][index]["payload"]["results_hash"] = results_hash(budget["results"])
    budget["log"]["entries"] = rehash(budget["log"]["entries"])
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == {"result.recomputed"}


def test_another_seed_than_the_committed_one_is_caught(budget):
    budget["seed"]["value"] = "0" * 64
    assert {"seed.commitment", "seed.logged"} <= found(budget)


# --------------------------------------------------------------------------- the log


def test_an_edited_log_entry_is_caught(budget):
    index = entry_index(budget, "ballot.accepted", 3)
    budget["log"]["entries"][index]["payload"]["channel"] = "paper"
    assert "log.edited" in found(budget)


def test_a_dropped_log_entry_is_caught(budget):
    del budget["log"]["entries"][entry_index(budget, "ballot.accepted", 3)]
    assert {"log.gap", "log.link"} <= found(budget)


def test_reordered_log_entries_are_caught(budget):
    entries = budget["log"]["entries"]
    i = entry_index(budget, "ballot.accepted", 2)
    entries[i], entries[i + 1] = entries[i + 1], entries[i]
    assert {"log.order", "log.link"} <= found(budget)


def test_a_wrong_head_is_caught(budget):
    budget["log"]["head"] = "ab" * 32
    assert "log.head" in found(budget)


def test_a_rewritten_chain_is_caught_only_by_a_head_published_earlier(budget):
    head_at_close = budget["log"]["entries"][entry_index(budget, "round.closed")]["hash"]
    # Remove one resident's ballot everywhere and rebuild everything that depends on it.
    victim_index = entry_index(budget, "ballot.accepted", 0)
    victim = budget["log"]["entries"].pop(victim_index)["payload"]["receipt"]
    for area in range(2):
        lines, _ = vote_lines(budget, area)
        set_vote_lines(budget, [line for line in lines if not line.startswith(victim)], area)
    budget["receipts"].remove(victim)
    budget["merkle_root"] = receipt_root(budget["receipts"])
    closed = budget["log"]["entries"][entry_index(budget, "round.closed")]
    closed["payload"] = {"merkle_root": budget["merkle_root"], "ballots": 59}
    # (the result may or may not change; recompute it as the attacker would)
    from stemmen.audit.verify import recompute_budget_area

    for result, area in zip(budget["results"], budget["cast_vote_record"]["areas"], strict=True):
        result["allocation"] = recompute_budget_area(
            area["pabulib"], budget["ruleset"]["document"], SEED
        )
    budget["log"]["entries"][entry_index(budget, "result.published")]["payload"] = {
        "results_hash": results_hash(budget["results"])
    }
    budget["log"]["entries"] = rehash(budget["log"]["entries"])
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == set()
    assert found(budget, [head_at_close]) == {"log.rewritten"}


def test_a_ballot_accepted_after_the_close_is_out_of_phase(budget):
    entries = budget["log"]["entries"]
    moved = entries.pop(entry_index(budget, "ballot.accepted", 0))
    entries.insert(entry_index(budget, "round.closed") + 1, moved)
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert "phases.event" in found(budget)


def test_phases_that_go_backwards_are_caught(budget):
    entries = budget["log"]["entries"]
    index = entry_index(budget, "round.phase_changed", 1)  # submission -> review
    entries[index]["payload"] = {"from": "submission", "to": "draft"}
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert "phases.order" in found(budget)


def test_log_entries_of_another_round_are_caught(budget):
    entries = budget["log"]["entries"]
    entries[5]["round_id"] = "r-other"
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert "log.round" in found(budget)


def test_an_unconfirmed_paper_batch_does_not_count(budget):
    entries = budget["log"]["entries"]
    del entries[entry_index(budget, "paper_batch.confirmed")]
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    report = verify_bundle(budget)
    assert {f.check for f in report.findings} == {"counts.extra"}
    assert "in unconfirmed paper batches" in report.render()


def test_a_malformed_bundle_is_reported_not_raised(budget):
    del budget["cast_vote_record"]
    report = verify_bundle(budget)
    assert not report.ok
    assert "SKIP cast-vote record" in report.render()


def test_a_bundle_of_another_format_stops_early():
    report = verify_bundle({"format": "other", "round": {"id": "x", "instrument": "peiling"}})
    assert [f.check for f in report.findings] == ["bundle.format"]


# --------------------------------------------------------------------------- preferenda


def test_an_edited_preferendum_answer_is_caught(preferendum):
    ballot = next(b for b in preferendum["cast_vote_record"]["ballots"] if "q1" in b["answers"])
    forged = [["niets"], ["markt"]]
    if ballot["answers"]["q1"]["ranking"] == forged:
        forged = [["groen"]]
    ballot["answers"]["q1"]["ranking"] = forged
    assert "ballots.receipt" in found(preferendum)


def test_a_preferendum_result_changed_consistently_is_still_recomputed(preferendum):
    tally = preferendum["results"][0]["preferendum"]["questions"][0]["result"]
    tally["ranking"] = list(reversed(tally["ranking"]))
    tally["winners"] = tally["ranking"][0]
    index = entry_index(preferendum, "result.published")
    preferendum["log"]["entries"][index]["payload"]["results_hash"] = results_hash(
        preferendum["results"]
    )
    preferendum["log"]["entries"] = rehash(preferendum["log"]["entries"])
    preferendum["log"]["head"] = preferendum["log"]["entries"][-1]["hash"]
    assert found(preferendum) == {"result.recomputed"}


def test_a_stuffed_preferendum_ballot_is_caught(preferendum):
    answers = {"q1": {"ranking": [["niets"]]}}
    nonce = bytes(32)
    receipt = make_receipt(canonical_bytes(preferendum_ballot_record("r-pref-1", answers)), nonce)
    ballots = preferendum["cast_vote_record"]["ballots"]
    ballots.append({"receipt": receipt.hash, "nonce": nonce.hex(), "answers": answers})
    ballots.sort(key=lambda b: b["receipt"])
    preferendum["receipts"] = sorted([*preferendum["receipts"], receipt.hash])
    preferendum["merkle_root"] = receipt_root(preferendum["receipts"])
    assert {"counts.extra", "merkle.logged", "result.recomputed"} <= found(preferendum)


# --------------------------------------------------------------------------- receipts


def test_every_counted_ballots_code_verifies():
    published = _budget()
    for code in published.codes:
        report = verify_receipt(published.bundle, code)
        assert report.ok, report.render()
    assert "ballot tree: leaf" in report.render()
    assert "ballot as counted: area WK0268" in report.render()


def test_a_replaced_ballots_code_is_not_counted():
    published = _budget()
    report = verify_receipt(published.bundle, published.superseded_codes[0])
    assert not report.ok
    assert "not counted" in report.render()


def test_a_mistyped_code_is_told_apart_from_a_missing_ballot():
    published = _budget()
    code = published.codes[0]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    report = verify_receipt(published.bundle, typo)
    assert not report.ok
    assert "typing error" in report.render()


def test_a_receipt_shows_a_preferendum_ballot_as_counted():
    published = _preferendum()
    report = verify_receipt(published.bundle, published.codes[0])
    assert report.ok, report.render()
    assert report.ballot is not None
    assert "answers" in report.ballot


def test_a_receipt_whose_ballot_was_dropped_from_the_record_fails(budget):
    published = _budget()
    full = verify_receipt(published.bundle, published.codes[0]).receipt_hash
    for area in range(2):
        lines, _ = vote_lines(budget, area)
        set_vote_lines(budget, [line for line in lines if not line.startswith(full)], area)
    report = verify_receipt(budget, published.codes[0])
    assert not report.ok
    assert "no ballot in the cast-vote record" in report.render()


def test_the_checks_are_deterministic(budget):
    assert verify_bundle(budget).render() == verify_bundle(copy.deepcopy(budget)).render()


def test_a_receipt_whose_ballot_was_edited_fails(budget):
    published = _budget()
    code = published.codes[0]
    full = verify_receipt(published.bundle, code).receipt_hash
    for area in range(2):
        lines, start = vote_lines(budget, area)
        for i in range(start, len(lines)):
            if lines[i].startswith(full):
                receipt, vote, *rest = lines[i].split(";")
                other = "p1" if area == 0 else "a1"
                lines[i] = ";".join([receipt, other if vote != other else "", *rest])
        set_vote_lines(budget, lines, area)
    report = verify_receipt(budget, code)
    assert not report.ok
    assert "changed after it was cast" in report.render()


def test_paper_ballots_may_be_entered_after_voting_closes_but_not_after_the_seal(budget):
    entries = budget["log"]["entries"]
    paper = next(
        i
        for i, e in enumerate(entries)
        if e["kind"] == "ballot.accepted" and e["payload"]["channel"] == "paper"
    )
    moved = entries.pop(paper)
    confirmation = entries.pop(entry_index(budget, "paper_batch.confirmed"))
    closing = next(
        i
        for i, e in enumerate(entries)
        if e["kind"] == "round.phase_changed" and e["payload"]["to"] == "closed"
    )
    entries[closing + 1 : closing + 1] = [moved, confirmation]
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == set()

    entries = budget["log"]["entries"]
    moved = entries.pop(closing + 1)
    entries.insert(entry_index(budget, "round.closed") + 1, moved)
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert "phases.event" in found(budget)


def test_a_paper_ballot_entered_after_its_batch_was_confirmed_does_not_count(budget):
    entries = budget["log"]["entries"]
    paper = next(
        i
        for i, e in enumerate(entries)
        if e["kind"] == "ballot.accepted" and e["payload"]["channel"] == "paper"
    )
    moved = entries.pop(paper)
    entries.insert(entry_index(budget, "paper_batch.confirmed") + 1, moved)
    budget["log"]["entries"] = rehash(entries)
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == {"counts.extra"}


def test_the_payload_helpers_write_what_the_verifier_reads(budget):
    from stemmen.audit.bundle import closing_payload, opening_payload, publication_payload

    entries = budget["log"]["entries"]
    opening = next(e for e in entries if e["payload"].get("to") == "voting")
    assert opening["payload"] == opening_payload(
        "review", budget["ruleset"]["hash"], budget["round"]
    )
    assert entries[entry_index(budget, "round.closed")]["payload"] == closing_payload(
        budget["receipts"]
    )
    assert entries[entry_index(budget, "result.published")]["payload"] == publication_payload(
        budget["results"]
    )


def test_a_round_below_its_quorum_verifies_and_says_so():
    small = preferendum_round(voters=12).bundle
    report = verify_bundle(small)
    assert report.ok, report.render()
    assert "turnout 12, quorum NOT met" in report.render()
    small["results"][0]["preferendum"]["quorum_met"] = True
    assert "result.recomputed" in found(small)


def test_results_published_question_by_question_verify_too():
    bundle = preferendum_round(voters=30, per_question=True).bundle
    report = verify_bundle(bundle)
    assert report.ok, report.render()
    bundle["results"][1]["quorum"]["participation"] += 1
    bundle["results"][0]["tally"]["scores"] = {}
    assert {"result.quorum", "result.recomputed", "result.logged"} == found(bundle)


def _service_style_opening(bundle):
    """The opening as the rounds service logs it: the ballot's projects, and the rule-set hash
    in the seed commitment of the same transaction, instead of a round hash."""
    entries = bundle["log"]["entries"]
    opening = next(e for e in entries if e["payload"].get("to") == "voting")
    opening["payload"] = {
        "from": opening["payload"]["from"],
        "to": "voting",
        "revision": 3,
        "ballot": [
            {
                "code": p["id"],
                "proposal": 100 + i,
                "area": area["code"],
                "cost_cents": p["cost_cents"],
            }
            for area in bundle["round"]["areas"]
            for i, p in enumerate(area["projects"])
        ],
    }
    entries[0]["payload"]["areas"] = [
        {"code": a["code"], "name": a["name"], "budget_cents": a["budget_cents"]}
        for a in bundle["round"]["areas"]
    ]
    seed = next(e for e in entries if e["kind"] == "seed.committed")
    seed["payload"]["ruleset_hash"] = bundle["ruleset"]["hash"]
    bundle["log"]["entries"] = rehash(entries)
    bundle["log"]["head"] = bundle["log"]["entries"][-1]["hash"]


def test_an_opening_logged_without_a_round_hash_is_checked_project_by_project(budget):
    _service_style_opening(budget)
    report = verify_bundle(budget)
    assert report.ok, report.render()
    assert "projects and costs as logged before and at the opening" in report.render()


def test_a_cost_changed_after_an_opening_without_round_hash_is_caught(budget):
    _service_style_opening(budget)
    budget["round"]["areas"][1]["projects"][0]["cost_cents"] += 100
    budget["round"]["areas"][0]["budget_cents"] += 100
    report = verify_bundle(budget)
    messages = [f.message for f in report.findings if f.check == "round.frame"]
    assert len(messages) == 2
    assert "WK026802/a1" in messages[1]


def test_a_preferendum_opening_without_a_round_hash_is_reported(preferendum):
    entries = preferendum["log"]["entries"]
    opening = next(e for e in entries if e["payload"].get("to") == "voting")
    del opening["payload"]["round_hash"]
    preferendum["log"]["entries"] = rehash(entries)
    preferendum["log"]["head"] = preferendum["log"]["entries"][-1]["hash"]
    assert found(preferendum) == {"round.frame"}


def _repin(bundle, change_ballot_rules):
    """The same round under a rule set with other ballot rules, logged consistently."""
    from stemmen.audit.bundle import round_frame_hash

    change_ballot_rules(bundle["ruleset"]["document"]["ballot"])
    new_hash = canonical_hash(bundle["ruleset"]["document"])
    bundle["ruleset"]["hash"] = new_hash
    bundle["round"]["ruleset_hash"] = new_hash
    for entry in bundle["log"]["entries"]:
        if "ruleset_hash" in entry["payload"]:
            entry["payload"]["ruleset_hash"] = new_hash
        if "round_hash" in entry["payload"]:
            entry["payload"]["round_hash"] = round_frame_hash(bundle["round"])
    bundle["log"]["entries"] = rehash(bundle["log"]["entries"])
    bundle["log"]["head"] = bundle["log"]["entries"][-1]["hash"]


def test_ballots_with_too_many_choices_for_the_rule_set_are_caught(budget):
    _repin(budget, lambda rules: rules.update(max_selections=2))
    report = verify_bundle(budget)
    assert {f.check for f in report.findings} == {"ballots.rules"}
    assert any("more than the maximum 2" in f.message for f in report.findings)
    assert "ballots break the rule set's approval rules" in report.render()


def test_ballots_over_the_budget_of_a_knapsack_ballot_are_caught(budget):
    _repin(budget, lambda rules: rules.update(format="knapsack"))
    report = verify_bundle(budget)
    assert {f.check for f in report.findings} == {"ballots.rules"}
    assert any("over the EUR 10000 budget of WK026801" in f.message for f in report.findings)


def test_blank_questions_are_caught_where_the_rule_set_forbids_them(preferendum):
    _repin(preferendum, lambda rules: rules.update(allow_abstain=False))
    report = verify_bundle(preferendum)
    assert {f.check for f in report.findings} == {"ballots.rules"}
    assert any("blank, which is not allowed" in f.message for f in report.findings)


def test_breakdowns_logged_at_the_close_must_agree_with_the_log(budget):
    index = entry_index(budget, "round.closed")
    budget["log"]["entries"][index]["payload"].update(online=54, paper=6, superseded=5)
    budget["log"]["entries"] = rehash(budget["log"]["entries"])
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == set()
    budget["log"]["entries"][index]["payload"]["superseded"] = 4
    budget["log"]["entries"] = rehash(budget["log"]["entries"])
    budget["log"]["head"] = budget["log"]["entries"][-1]["hash"]
    assert found(budget) == {"counts.closed"}
