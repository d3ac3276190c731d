"""The public data sets custody knows, each pinned to one upstream version by checksum and header.

A figure is only as good as the file it came from, so every data set names its source, its licence
and the exact bytes (sha256) whose schema and figures custody has checked. Data sets whose licence
lets the project redistribute them ship in ``data/`` (see ``data/PROVENANCE.md``); the others are
``import_only`` and are read from wherever the user keeps them (``custody stats import``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from custody.domain.errors import NotFound

DATA_DIR = Path(__file__).parent / "data"


class Kind(StrEnum):
    """How a raw text cell becomes a typed value (see ``warehouse._typed``)."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    MONTH_NAME = "month_name"  # "january" .. "december" -> 1..12
    YEAR_MONTH = "year_month"  # "2016-10" -> DATE 2016-10-01
    US_TIMESTAMP = "us_timestamp"  # "06/28/2023 11:04:00 PM"
    ISO_DATE = "iso_date"  # "2017-08-01"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    name: str = ""  # the typed column's name; defaults to the header in snake_case

    @property
    def column(self) -> str:
        return self.name or self.header.lower().replace(" ", "_")


@dataclass(frozen=True)
class Dataset:
    key: str  # what `custody stats import KEY PATH` names
    title: str
    filename: str
    sha256: str
    columns: tuple[Column, ...]
    source: str
    licence: str
    retrieved: str
    attribution: str = ""
    import_only: bool = False  # licence does not allow shipping it: the user supplies the file
    null_tokens: tuple[str, ...] = ("NA",)

    @property
    def table(self) -> str:
        return self.key.replace("-", "_")

    @property
    def shipped_path(self) -> Path | None:
        return None if self.import_only else DATA_DIR / self.filename

    def cite(self) -> str:
        """One line naming the data set and where it came from, for every figure drawn from it."""
        return f"{self.title} — {self.source}" + (f"; {self.attribution}" if self.attribution else "")


def _cols(*spec: str | tuple[str, Kind] | tuple[str, Kind, str]) -> tuple[Column, ...]:
    return tuple(Column(s) if isinstance(s, str) else Column(*s) for s in spec)


INT, F, B = Kind.INT, Kind.FLOAT, Kind.BOOL

UCR = Dataset(
    key="ucr-1975-2015",
    title="UCR violent crime by agency 1975–2015 (The Marshall Project)",
    filename="marshallproject_ucr_crime_1975_2015.csv",
    sha256="dc4d162549babcb60f8d7c46f2160bd34e77dd666c579f63da95352339355418",
    columns=_cols(
        ("ORI", Kind.TEXT, "ori"),
        ("year", INT),
        "department_name",
        ("total_pop", INT),
        ("homs_sum", INT),
        ("rape_sum", INT),
        ("rob_sum", INT),
        ("agg_ass_sum", INT),
        ("violent_crime", INT),
        ("months_reported", INT),
        ("violent_per_100k", F),
        ("homs_per_100k", F),
        ("rape_per_100k", F),
        ("rob_per_100k", F),
        ("agg_ass_per_100k", F),
        "source",
        "url",
    ),
    source="themarshallproject/city-crime data/ucr_crime_1975_2015.csv @ 5dce7b2 (FBI UCR Offenses Known, via ICPSR)",
    licence="FBI UCR figures are U.S. government works (public domain); the compilation states no licence",
    retrieved="2026-11-25",
    attribution="compiled by The Marshall Project, 'Crime in Context' (2016)",
)

FBI_2019 = Dataset(
    key="fbi-2019-cities",
    title="FBI Crime in the United States 2019, Table 8 (offenses known, by city)",
    filename="fbi_cius2019_table8_offenses_known_by_city.csv",
    sha256="a069b3c8b2b7cc657e6ce0ebefa1455080eb88d81eee4a9ea1207db5071ee227",
    columns=_cols(
        "state",
        "city",
        ("population", INT),
        ("violent_crime", INT),
        ("murder", INT),
        ("rape", INT),
        ("robbery", INT),
        ("aggravated_assault", INT),
        ("property_crime", INT),
        ("burglary", INT),
        ("larceny_theft", INT),
        ("motor_vehicle_theft", INT),
        ("arson", INT),
    ),
    source="FBI CIUS 2019 Table 8, as CSV in hennie-the-barbarian/crime_safety_budget @ a9e9024",
    licence="public domain (U.S. government work, 17 U.S.C. 105)",
    retrieved="2026-11-25",
)

FTE_2015 = Dataset(
    key="fivethirtyeight-2015",
    title="FiveThirtyEight murders 2014–2015, cities of 250,000+ (FBI UCR)",
    filename="fivethirtyeight_murder_2015_final.csv",
    sha256="23530e792e50d4e2167782b90dbee5e3b56b614fb16d0300fb4a235c502b3e71",
    columns=_cols(
        "city", "state", ("2014_murders", INT, "murders_2014"), ("2015_murders", INT, "murders_2015"), ("change", INT)
    ),
    source="fivethirtyeight/data murder_2016/murder_2015_final.csv @ 72b2a29",
    licence="CC BY 4.0",
    retrieved="2026-11-25",
    attribution="data by FiveThirtyEight",
)

FTE_2016 = Dataset(
    key="fivethirtyeight-2016",
    title="FiveThirtyEight murders 2015–2016 year to date, preliminary police figures",
    filename="fivethirtyeight_murder_2016_prelim.csv",
    sha256="f67ea991dd3a969efc453e5c428cec7ae9444ba3b93965bdc77d50beb1d75244",
    columns=_cols(
        "city",
        "state",
        ("2015_murders", INT, "murders_2015"),
        ("2016_murders", INT, "murders_2016"),
        ("change", INT),
        "source",
        "as_of",
    ),
    source="fivethirtyeight/data murder_2016/murder_2016_prelim.csv @ 3bad513",
    licence="CC BY 4.0",
    retrieved="2026-11-25",
    attribution="data by FiveThirtyEight",
)

CHICAGO = Dataset(
    key="chicago-homicides",
    title="City of Chicago, Crimes 2001 to present (ijzp-q8t2), first-degree murder records 2001–2023-07",
    filename="chicago_homicides_2001_to_2023_incidents.csv",
    sha256="f5ad64382301335c5556802992056b17b32be2cd2f830e80cb02079817aa024b",
    columns=_cols(
        ("ID", INT),
        "Case Number",
        ("Date", Kind.US_TIMESTAMP),
        "Block",
        "IUCR",
        "Primary Type",
        "Description",
        "Location Description",
        ("Arrest", B),
        ("Domestic", B),
        "Beat",
        "District",
        "Ward",
        "Community Area",
        "FBI Code",
        ("X Coordinate", F),
        ("Y Coordinate", F),
        ("Year", INT),
        ("Updated On", Kind.US_TIMESTAMP),
        ("Latitude", F),
        ("Longitude", F),
        "Location",
    ),
    source="City of Chicago Data Portal 'Crimes - 2001 to present' (ijzp-q8t2), extract in "
    "adkf37/Llama_3.2_Experiment knowledge_base/Homicides_2001_to_present.csv @ 9646c0b",
    licence="City of Chicago Data Portal Terms of Use (free reuse, provided as is)",
    retrieved="2026-11-25",
    attribution="City of Chicago",
    null_tokens=(),
)

TEXAS = Dataset(
    key="texas-detainers",
    title="Texas Commission on Jail Standards, Immigration Detainer Reports by county and month 2011–2017",
    filename="texas_tcjs_immigration_detainer_by_county_month_2011_2017.csv",
    sha256="839e803d19ff98ab87b2ecc333e6a4fa69b0f66424482d8cacad3a14dc7fa331",
    columns=_cols(
        "county",
        ("year", INT),
        ("month", Kind.MONTH_NAME),
        ("num_of_inmates", INT, "inmates"),
        ("num_of_inmate_days", INT, "inmate_days"),
        ("cost_in_dollars", F, "cost_dollars"),
        "link",
    ),
    source="jacobkap/texas_jails data/clean_data/texas_jails_immigrant_detainer_2011_2017.csv @ 4d76166 "
    "(parsed from TCJS monthly PDF reports)",
    licence="GPL (the compilation); the TCJS reports are Texas public records",
    retrieved="2026-11-25",
    import_only=True,
)

TRAVIS = Dataset(
    key="travis-detainers",
    title="ICE detainers lodged at the Travis County (TX) jail by month 2006–2016 (Austin American-Statesman)",
    filename="travis_county_ice_detainers_by_month_2006_2016.csv",
    sha256="703bef6bb3af2698cc2083db31b2feef9949fb1355ec7c272bff484cab33a7f5",
    columns=_cols(
        ("month", Kind.YEAR_MONTH),
        ("total", INT),
        ("has_at_least_one_felony", INT, "felony"),
        ("has_at_least_one_violent_crime", INT, "violent"),
    ),
    source="statesman/ice-travis-county summary_table.csv @ 62fec51",
    licence="no licence stated (aggregate of public records obtained by the newspaper)",
    retrieved="2026-11-25",
    import_only=True,
)

POLICY_287G = Dataset(
    key="policy-287g",
    title="Pre-2018 ICE 287(g) agreements with local agencies (Deportation Data Project, subset)",
    filename="deportationdata_287g_pre2018_local_agreements_subset.csv",
    sha256="6cf8bfc80c52f0edf21146f28b462427a86922dc138052074f00bc515e50074f",
    columns=_cols(
        "state",
        "agency",
        "county_fips",
        "county_fips_5digit",
        "county_name",
        ("first_signed_best", Kind.ISO_DATE),
        ("latest_signed", Kind.ISO_DATE),
        "models",
        ("active_from", Kind.ISO_DATE),
        ("active_to", Kind.ISO_DATE),
        ("terminated", B),
        "confidence",
    ),
    source="deportationdata/ice-287g data/pre2018-agreements-best-guess.csv @ 92556ed (transcribed subset)",
    licence="no licence stated",
    retrieved="2026-11-25",
    import_only=True,
)

DATASETS: dict[str, Dataset] = {
    d.key: d for d in (UCR, FBI_2019, FTE_2015, FTE_2016, CHICAGO, TEXAS, TRAVIS, POLICY_287G)
}


def dataset(key: str) -> Dataset:
    try:
        return DATASETS[key]
    except KeyError:
        raise NotFound(f"no data set '{key}': choose one of {', '.join(DATASETS)}") from None
