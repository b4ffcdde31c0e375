"""The climate table answers what is known of real places: the tropics are warm all year, seasons flip
with the hemisphere, and a region's own climate beats its country's."""

import csv
import re
from datetime import date

import pytest

from personalize.climate import MONTHS, TABLE, band_for, climate_for, season_name, season_on

JANUARY = date(2025, 1, 15)
JULY = date(2025, 7, 15)


def test_singapore_is_tropical_and_warm_in_january():
    climate = climate_for("SG")

    assert climate is not None
    assert climate.band == "tropical"
    assert climate.hemisphere == "north"
    assert season_on(climate, JANUARY) == "warm"
    assert season_on(climate, JULY) == "warm"


def test_a_tropical_shopper_is_warm_every_month():
    climate = climate_for("BR", "AM")

    assert climate is not None
    assert climate.band == "tropical"
    assert {season_on(climate, date(2025, month, 1)) for month in range(1, 13)} == {"warm"}


def test_nunavut_is_polar_and_norway_continental():
    nunavut = climate_for("CA", "NU")
    norway = climate_for("NO")

    assert nunavut is not None
    assert norway is not None
    assert nunavut.band == "polar"
    assert norway.band == "continental"
    assert season_on(norway, JANUARY) == "cold"


def test_australia_is_southern_with_summer_in_january():
    climate = climate_for("AU")

    assert climate is not None
    assert climate.hemisphere == "south"
    assert season_name(climate, JANUARY) == "summer"
    assert season_name(climate, JULY) == "winter"
    assert season_on(climate, JANUARY) == "warm"


def test_seasons_flip_between_hemispheres():
    japan = climate_for("JP")
    argentina = climate_for("AR")

    assert japan is not None
    assert argentina is not None
    assert season_name(japan, JANUARY) == "winter"
    assert season_name(argentina, JANUARY) == "summer"
    assert season_name(japan, date(2025, 4, 1)) == "spring"
    assert season_name(argentina, date(2025, 4, 1)) == "autumn"
    assert season_on(japan, JANUARY) == "cold"
    assert season_on(argentina, JANUARY) == "warm"


def test_florida_and_alaska_differ():
    florida = climate_for("US", "FL")
    alaska = climate_for("US", "AK")

    assert florida is not None
    assert alaska is not None
    assert florida.region_code == "US-FL"
    assert alaska.region_code == "US-AK"
    assert florida.band == "temperate"
    assert alaska.band == "continental"
    assert season_on(florida, JANUARY) == "mild"
    assert season_on(alaska, JANUARY) == "cold"
    assert florida.monthly_mean_c[0] - alaska.monthly_mean_c[0] > 25


def test_okinawa_is_warmer_than_hokkaido():
    okinawa = climate_for("JP", "JP-47")
    hokkaido = climate_for("JP", "01")

    assert okinawa is not None
    assert hokkaido is not None
    assert okinawa.band == "temperate"
    assert hokkaido.band == "continental"
    assert season_on(okinawa, JULY) == "warm"
    assert season_on(hokkaido, JANUARY) == "cold"
    assert min(okinawa.monthly_mean_c) > max(hokkaido.monthly_mean_c[:3])


@pytest.mark.parametrize(
    ("country", "province", "expected"),
    [
        ("US", "FL", "US-FL"),
        ("us", " fl ", "US-FL"),
        ("US", "US-FL", "US-FL"),
        ("CA", "QC", "CA-QC"),
        ("AU", "QLD", "AU-QLD"),
        ("JP", "JP-13", "JP-13"),
        ("JP", "13", "JP-13"),
        ("MX", "JAL", "MX-JAL"),
        ("AR", "B", "AR-B"),
    ],
)
def test_shopify_province_codes_find_the_region(country, province, expected):
    climate = climate_for(country, province)

    assert climate is not None
    assert climate.region_code == expected


def test_an_unknown_region_falls_back_to_the_country():
    climate = climate_for("FR", "IDF")

    assert climate is not None
    assert climate.country_code == "FR"
    assert climate.region_code == ""


def test_an_unknown_country_has_no_climate():
    assert climate_for("ZZ") is None
    assert climate_for("") is None
    assert climate_for("AQ") is None


def test_every_climate_carries_its_source():
    climate = climate_for("DE")

    assert climate is not None
    assert "CRU TS" in climate.source
    assert len(climate.monthly_mean_c) == 12


def test_band_follows_koppen_temperature_rules():
    assert band_for((18.0,) * 12) == "tropical"
    assert band_for((-20.0,) * 6 + (9.9,) * 6) == "polar"
    assert band_for((-3.1,) * 6 + (15.0,) * 6) == "continental"
    assert band_for((-3.0,) * 6 + (15.0,) * 6) == "temperate"


def test_every_row_of_the_table_is_well_formed():
    with TABLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = [(row["country_code"], row["region_code"]) for row in rows]

    assert len(keys) == len(set(keys))
    assert len({country for country, region in keys if not region}) >= 240
    for row in rows:
        country, region = row["country_code"], row["region_code"]
        monthly = [float(row[month]) for month in MONTHS]
        latitude = float(row["latitude"])
        assert re.fullmatch(r"[A-Z]{2}", country), row
        assert region == "" or re.fullmatch(rf"{country}-[A-Z0-9]{{1,3}}", region), row
        assert region == "" or (country, "") in keys, row
        assert all(-55.0 <= value <= 45.0 for value in monthly), row
        assert -90.0 <= latitude <= 90.0, row
        assert -180.0 <= float(row["longitude"]) <= 180.0, row
        assert row["hemisphere"] == ("north" if latitude >= 0 else "south"), row
        assert int(row["cells"]) >= 1, row


def test_large_countries_have_their_regions():
    with TABLE.open(encoding="utf-8", newline="") as handle:
        regions = {row["region_code"] for row in csv.DictReader(handle) if row["region_code"]}

    for code in ("US-FL", "US-AK", "CA-QC", "AU-QLD", "JP-13", "BR-SP", "CN-GD", "IN-MH", "RU-MOW"):
        assert code in regions
    assert sum(code.startswith("US-") for code in regions) >= 50
    assert sum(code.startswith("JP-") for code in regions) == 47
