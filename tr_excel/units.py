"""Which county, zone or city a 审核单位 line or a row's place names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tr_excel.policy import Policy

# 阳泉's 城区, 矿区 and 郊区 (and former names elsewhere) are too short to find inside free text:
# they count only right after their city's name.
_AMBIGUOUS = frozenset({"城区", "矿区", "郊区"})
_ZONE_WORDS = ("开发区", "风景名胜区", "风景区", "园区", "示范区")


@dataclass(frozen=True)
class Unit:
    """A submitting unit: level is county, zone or city; city and division as the text names them."""

    text: str
    level: str
    city: str | None
    division: str | None


def parse_unit(text: str | None, policy: Policy) -> Unit | None:
    if not text:
        return None
    clean = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    city = next((c for c in policy.cities if c.name in clean or c.name.rstrip("市") in clean), None)
    cities = [city] if city else list(policy.cities)
    for candidate in cities:
        for zone in candidate.zones:
            if zone in clean:
                return Unit(text, "zone", candidate.name, zone)
    if any(word in clean for word in _ZONE_WORDS):
        zone_match = re.search(r"([^市县区]*?(?:" + "|".join(_ZONE_WORDS) + "))", clean)
        return Unit(text, "zone", city.name if city else None, zone_match.group(1) if zone_match else clean)
    best = None
    for candidate in cities:
        for county in candidate.counties:
            if county in _AMBIGUOUS:
                if city is None or (candidate.name + county) not in clean:
                    continue
            elif county not in clean:
                continue
            if best is None or len(county) > len(best[1]):
                best = (candidate.name, county)
    if best:
        return Unit(text, "county", best[0], best[1])
    return Unit(text, "city", city.name if city else None, None)
