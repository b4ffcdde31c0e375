"""A shopper's climate from where they live: band, hemisphere and the mean temperature of each month,
read from the table shipped in personalize/data (CRU TS 4.06 normals 1991-2020; its README cites the
sources and says how each row was made). Pure Python: the profile and the recommender call it.
"""

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

Band = Literal["tropical", "arid", "temperate", "continental", "polar"]
Hemisphere = Literal["north", "south"]
Season = Literal["warm", "mild", "cold"]
SeasonName = Literal["spring", "summer", "autumn", "winter"]

TABLE = Path(__file__).resolve().parent / "data" / "climate_normals.csv"
SOURCE = "CRU TS v4.06 1991-2020 normals (Harris et al. 2020), OGL v3"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Köppen's temperature rules (Köppen 1936): A when every month is at least 18 °C, E when the warmest
# month is below 10 °C, D when the coldest is below -3 °C (Köppen's own line; Beck et al. use 0 °C,
# which would move places like New York and Beijing from temperate to continental), C otherwise.
TROPICAL_COLDEST_MONTH_C = 18.0
POLAR_WARMEST_MONTH_C = 10.0
CONTINENTAL_COLDEST_MONTH_C = -3.0

# A month is warm from a mean of 20 °C (summer clothes), cold below 10 °C (coats); mild between.
WARM_FROM_C = 20.0
COLD_BELOW_C = 10.0

# Meteorological seasons of the northern hemisphere; the southern one is six months on.
NORTHERN_SEASONS: dict[int, SeasonName] = {
    12: "winter", 1: "winter", 2: "winter",
    3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer",
    9: "autumn", 10: "autumn", 11: "autumn",
}  # fmt: skip
OPPOSITE_SEASON: dict[SeasonName, SeasonName] = {
    "winter": "summer",
    "summer": "winter",
    "spring": "autumn",
    "autumn": "spring",
}


@dataclass(frozen=True)
class Climate:
    country_code: str
    region_code: str
    band: Band
    hemisphere: Hemisphere
    monthly_mean_c: tuple[float, ...]
    source: str


def band_for(monthly_mean_c: tuple[float, ...]) -> Band:
    """The Köppen main class that temperature alone decides. Arid needs precipitation, which the
    table does not carry, so it is never returned here."""
    coldest, warmest = min(monthly_mean_c), max(monthly_mean_c)
    if coldest >= TROPICAL_COLDEST_MONTH_C:
        return "tropical"
    if warmest < POLAR_WARMEST_MONTH_C:
        return "polar"
    if coldest < CONTINENTAL_COLDEST_MONTH_C:
        return "continental"
    return "temperate"


@cache
def climate_table() -> dict[tuple[str, str], Climate]:
    """Every row of the table, keyed by (country code, region code or ""); read once."""
    table: dict[tuple[str, str], Climate] = {}
    with TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            monthly = tuple(float(row[month]) for month in MONTHS)
            hemisphere: Hemisphere = "north" if float(row["latitude"]) >= 0 else "south"
            key = (row["country_code"], row["region_code"])
            table[key] = Climate(
                country_code=row["country_code"],
                region_code=row["region_code"],
                band=band_for(monthly),
                hemisphere=hemisphere,
                monthly_mean_c=monthly,
                source=SOURCE,
            )
    return table


def region_code_for(country_code: str, region_code: str) -> str:
    """An ISO 3166-2 code from what an address carries: the full code ("US-FL", "JP-13") or
    Shopify's province code, which for most countries is the part after the hyphen ("FL", "QC",
    "QLD", "13", "SP")."""
    country = country_code.strip().upper()
    region = region_code.strip().upper()
    if not region:
        return ""
    if region.startswith(f"{country}-"):
        return region
    return f"{country}-{region}"


def climate_for(country_code: str, region_code: str = "") -> Climate | None:
    """The climate of a region when the table has it, else of the country, else None.

    The table has regions for US, CA, AU, JP, BR, CN, IN, RU, MX, AR and CL; elsewhere, or for a
    region code it does not know, the country answers."""
    country = country_code.strip().upper()
    table = climate_table()
    region = region_code_for(country, region_code)
    if region and (country, region) in table:
        return table[(country, region)]
    return table.get((country, ""))


def season_on(climate: Climate, day: date) -> Season:
    """How the shopper's month feels: warm from a mean of 20 °C, cold below 10 °C, mild between.
    Read from that place's own month, so the tropics are warm all year and January is warm in
    Sydney and cold in Sapporo."""
    mean = climate.monthly_mean_c[day.month - 1]
    if mean >= WARM_FROM_C:
        return "warm"
    if mean < COLD_BELOW_C:
        return "cold"
    return "mild"


def season_name(climate: Climate, day: date) -> SeasonName:
    """The meteorological season on that day where the shopper lives (December to February is
    winter in the north and summer in the south)."""
    northern = NORTHERN_SEASONS[day.month]
    return northern if climate.hemisphere == "north" else OPPOSITE_SEASON[northern]
