"""PrefLib ``.soc``, ``.soi``, ``.toc`` and ``.toi`` files, read and written.

PrefLib names alternatives by integers 1..m (``# ALTERNATIVE NAME i: ...`` gives each a
label) and stores one line per distinct order: ``count: 3,1,{2,4}`` ranks 3 first, then 1,
then 2 and 4 tied; options left out are unranked (``soi``/``toi`` only). The option ids of a
profile read from PrefLib are those integers as strings, unless ``use_names`` asks for the
alternatives' names (when every alternative has a distinct one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from stemmen.tally.errors import TallyError
from stemmen.tally.profiles import RankedProfile

PREFLIB_TYPES = ("soc", "soi", "toc", "toi")
_TOKEN = re.compile(r"\{([^}]*)\}|([^,{}\s]+)")


@dataclass(frozen=True)
class PreflibFile:
    profile: RankedProfile
    data_type: str
    names: Mapping[str, str]
    metadata: Mapping[str, str] = field(default_factory=dict)


def read_preflib(source: str | Path, *, use_names: bool = False) -> PreflibFile:
    path = Path(source)
    text = path.read_text(encoding="utf-8-sig")
    return parse_preflib(text, default_type=path.suffix.lstrip(".").lower(), use_names=use_names)


def parse_preflib(text: str, *, default_type: str = "toi", use_names: bool = False) -> PreflibFile:
    metadata: dict[str, str] = {}
    names: dict[int, str] = {}
    body_start = 0
    position = 0
    while position < len(text) and text.startswith("#", position):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        line = text[position + 1 : end].strip()
        key, _, value = line.partition(":")
        key, value = key.strip().upper(), value.strip()
        if key.startswith("ALTERNATIVE NAME"):
            names[int(key.removeprefix("ALTERNATIVE NAME").strip())] = value
        else:
            metadata[key] = value
        position = end + 1
        body_start = position
    body = text[body_start:]
    data_type = metadata.get("DATA TYPE", default_type).lower()
    if data_type not in PREFLIB_TYPES:
        raise TallyError("bad-preflib", f"PrefLib data type {data_type!r} is not ranked")
    if "NUMBER ALTERNATIVES" in metadata:
        m = int(metadata["NUMBER ALTERNATIVES"])
    elif names:
        m = max(names)
    else:
        raise TallyError("bad-preflib", "the file does not say how many alternatives it has")
    ids = [str(i) for i in range(1, m + 1)]
    if use_names:
        labels = [names.get(i) for i in range(1, m + 1)]
        if all(labels) and len(set(labels)) == m:
            ids = [str(label) for label in labels]
    positions, counts, complete_strict = _parse_body(body, m)
    profile = RankedProfile.from_positions(ids, positions, counts, complete_strict=complete_strict)
    label_map = {ids[i - 1]: name for i, name in names.items() if 1 <= i <= m}
    return PreflibFile(profile, data_type, label_map, metadata)


def _parse_body(body: str, m: int) -> tuple[np.ndarray, np.ndarray, bool]:
    if "{" not in body:
        fast = _parse_complete_strict(body, m)
        if fast is not None:
            return (*fast, True)
    rows: list[list[int]] = []
    counts: list[int] = []
    for number, line in enumerate(body.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        count_text, colon, order = line.partition(":")
        if not colon:
            raise TallyError("bad-preflib", f"line {number}: expected 'count: order'")
        row = [-1] * m
        for tier, (group, single) in enumerate(_TOKEN.findall(order)):
            members = group.split(",") if group else [single]
            for member in members:
                member = member.strip()
                if not member:
                    continue
                option = int(member)
                if not 1 <= option <= m or row[option - 1] != -1:
                    raise TallyError("bad-preflib", f"line {number}: bad or repeated {option}")
                row[option - 1] = tier
        rows.append(row)
        counts.append(int(count_text))
    return (
        np.array(rows, dtype=np.int64).reshape(-1, m),
        np.array(counts, dtype=np.int64),
        False,
    )


def _parse_complete_strict(body: str, m: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Every line ``count: a,b,...`` with all m options: parsed by numpy in one pass."""
    stripped = body.strip()
    if not stripped:
        return np.zeros((0, m), dtype=np.int64), np.zeros(0, dtype=np.int64)
    lines = stripped.count("\n") + 1
    flat = _numbers(stripped)
    if flat is None or flat.size != lines * (m + 1):
        return None
    table = flat.reshape(lines, m + 1)
    orders = table[:, 1:] - 1
    if orders.min() < 0 or orders.max() >= m:
        return None
    positions = np.full_like(orders, -1)
    np.put_along_axis(positions, orders, np.arange(m, dtype=np.int64)[np.newaxis, :], axis=1)
    if bool((positions < 0).any()):
        return None  # a repeated option left some option without a place: not a complete order
    return positions, table[:, 0].copy()


def _numbers(text: str) -> np.ndarray | None:
    """All the integers of a text of digits, commas, colons and newlines, as one array."""
    if text.encode("utf-8").translate(None, b"0123456789,: \t\r\n"):
        return None
    flat = text.replace(":", ",").replace("\n", ",").replace("\r", "")
    values: np.ndarray = np.fromstring(flat, dtype=np.int64, sep=",")  # C-speed parse
    return values


def preflib_type(profile: RankedProfile) -> str:
    strict = profile.is_strict()
    complete = profile.is_complete()
    return {(True, True): "soc", (True, False): "soi", (False, True): "toc"}.get(
        (strict, complete), "toi"
    )


def write_preflib(
    profile: RankedProfile,
    target: str | Path | TextIO,
    *,
    title: str = "",
    names: Mapping[str, str] | None = None,
) -> str:
    """Write the profile in the narrowest PrefLib type that holds it; returns that type.

    Options become alternatives 1..m in the profile's order, named by their ids (or ``names``).
    """
    data_type = preflib_type(profile)
    m = len(profile.options)
    lines = [
        f"# FILE NAME: {Path(target).name if isinstance(target, str | Path) else ''}",
        f"# TITLE: {title}",
        "# DESCRIPTION: ",
        f"# DATA TYPE: {data_type}",
        "# MODIFICATION TYPE: original",
        "# RELATES TO: ",
        "# RELATED FILES: ",
        "# PUBLICATION DATE: ",
        "# MODIFICATION DATE: ",
        f"# NUMBER ALTERNATIVES: {m}",
        f"# NUMBER VOTERS: {profile.num_voters}",
        f"# NUMBER UNIQUE ORDERS: {len(profile.counts)}",
    ]
    for i, option in enumerate(profile.options, start=1):
        label = names.get(option, option) if names else option
        lines.append(f"# ALTERNATIVE NAME {i}: {label}")
    order = np.argsort(-profile.counts, kind="stable")
    counts = profile.counts[order].tolist()
    if data_type == "soc":
        # Complete strict orders: the option at each position, straight from an argsort.
        orders = (np.argsort(profile.positions[order], axis=1) + 1).tolist()
        lines.extend(
            f"{count}: {','.join(map(str, row))}" for count, row in zip(counts, orders, strict=True)
        )
    else:
        for count, row in zip(counts, profile.positions[order].tolist(), strict=True):
            tiers: dict[int, list[int]] = {}
            for column, tier in enumerate(row):
                if tier != m:
                    tiers.setdefault(tier, []).append(column + 1)
            parts = [
                str(t[0]) if len(t) == 1 else "{" + ",".join(map(str, t)) + "}"
                for t in (tiers[k] for k in sorted(tiers))
            ]
            lines.append(f"{count}: {','.join(parts)}")
    text = "\n".join(lines) + "\n"
    if isinstance(target, str | Path):
        Path(target).write_text(text, encoding="utf-8")
    else:
        target.write(text)
    return data_type
