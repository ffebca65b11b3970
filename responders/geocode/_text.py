"""House numbers and queries as people and mappers write them.

OSM's `addr:housenumber` holds "52", "52 B", "36a", ranges "30-34" and dirty values such as
"13 A, 5. krs./Floor 5"; a query holds "Aleksanterinkatu 52", "52 Aleksanterinkatu",
"aleksanterink 52 b, Helsinki". Both come down to a number (or range) and a unit letter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["HouseNumber", "Query", "fold", "parse_housenumber", "parse_query"]

# A number, an optional range end, an optional unit letter ("52", "30-34", "52 B", "36a").
# The letter must stand alone: "5 krs" is number 5 followed by words, not unit "k".
_NUMBER = (
    r"(?P<lo>\d{1,5})(?:\s*[-\N{EN DASH}]\s*(?P<hi>\d{1,5}))?(?:\s*(?P<unit>[^\W\d_])(?![^\W\d_]))?"
)
_HOUSE = re.compile(_NUMBER)
_TRAILING = re.compile(rf"^(?P<street>.*?[^\W\d_].*?)[\s,]+{_NUMBER}\s*$")
_LEADING = re.compile(rf"^{_NUMBER}[\s,]+(?P<street>[^\W\d_].*)$")


@dataclass(frozen=True, slots=True)
class HouseNumber:
    """`text` as shown ("52 B", "30-34"), `key` as compared ("52b"), the numbers it covers."""

    text: str
    key: str
    lo: int
    hi: int
    unit: str | None


def _house(match: re.Match[str]) -> HouseNumber:
    lo = int(match["lo"])
    hi = int(match["hi"]) if match["hi"] else lo
    unit = match["unit"].lower() if match["unit"] else None
    end = max(match.end(group) for group in ("lo", "hi", "unit") if match[group])
    text = match.string[match.start("lo") : end]
    key = f"{lo}-{hi}" if hi != lo else str(lo)
    # A range written backwards ("29-27") still covers its numbers.
    return HouseNumber(text, key + (unit or ""), min(lo, hi), max(lo, hi), unit)


def parse_housenumber(value: str) -> HouseNumber | None:
    """The first number of a tag value (and its range and letter); None without one."""
    match = _HOUSE.search(value)
    return _house(match) if match else None


@dataclass(frozen=True, slots=True)
class Query:
    """A search split into its street (or the whole text), house number and place hint."""

    text: str
    number: HouseNumber | None
    city: str | None


def parse_query(q: str) -> Query:
    """`street number[, city]` or `number street[, city]`; else the whole text is a name."""
    main, _, rest = q.strip().partition(",")
    city = " ".join(rest.split()) or None
    main = " ".join(main.split())
    for pattern in (_TRAILING, _LEADING):
        match = pattern.match(main)
        if match:
            return Query(match["street"].strip(" ,"), _house(match), city)
    return Query(" ".join(q.replace(",", " ").split()), None, None)


def fold(value: str) -> str:
    """Lower case without accents, as `geocode_norm` in SQL, for comparing a city hint."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"\W+", " ", plain).split())
