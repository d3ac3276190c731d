"""Published figures that no shipped file holds, each with its source and how well it was checked.

Taken from the project's domain reference (section 4). The tag is kept as the reference gives it:
``V`` means the figure was seen in the named source; ``M`` means it is consistent with sources but the
exact number was not checked against one. A claim's verdict that rests on an ``M`` figure says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from custody.domain.errors import NotFound


@dataclass(frozen=True)
class Published:
    id: str
    figure: str
    value: float
    unit: str
    source: str
    tag: Literal["V", "M"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PUBLISHED: tuple[Published, ...] = (
    Published("us_murders_2016", "US murders, 2016 (FBI estimate)", 17_250, "murders",
              "FBI, Crime in the United States 2016 (released 25 Sep 2017), as reported by valleynewslive.com, "
              "securitymagazine.com, freebeacon.com, hsdl.org", "V"),
    Published("us_murders_change_2016", "US murders, change 2015 to 2016 (FBI)", 8.6, "percent",
              "FBI, Crime in the United States 2016, as reported by the same sources", "V"),
    Published("us_murder_rate_2016", "US murder rate, 2016 (FBI)", 5.3, "per 100,000",
              "FBI, Crime in the United States 2016, as reported by the same sources", "V"),
    Published("us_murders_change_2015", "US murders, change 2014 to 2015 (FBI)", 10.8, "percent",
              "FBI, Crime in the United States 2015, as reported by the same sources", "V"),
    Published("chicago_homicides_2016", "Chicago homicides, 2016 (CPD count at 31 Dec 2016)", 762, "homicides",
              "Miami Herald article133388029; chicagocriminallawyer.com (CPD later revised to 771)", "V"),
    Published("chicago_murders_2017", "Chicago murders, 2017 (CPD, January 2018)", 650, "murders",
              "UPI 2018-01-01; USA Today via fayobserver.com 2018-01-01", "V"),
    Published("miami_dade_homicides_2016", "Miami-Dade County homicides, 2016 (county-wide, Medical Examiner)", 231,
              "homicides", "Miami Herald article133388029", "V"),
    Published("miami_dade_homicides_1981", "Miami-Dade County homicides, 1981 (peak, county-wide)", 621,
              "homicides", "Miami Herald article133388029", "V"),
    Published("chicago_population_2016", "Chicago population, 2016 (Census estimate)", 2_704_958, "people",
              "U.S. Census Bureau estimate as given in the domain reference", "M"),
    Published("miami_dade_population_2016", "Miami-Dade County population, 2016 (Census estimate)", 2_712_945,
              "people", "U.S. Census Bureau estimate as given in the domain reference", "M"),
)  # fmt: skip


def published(figure_id: str) -> Published:
    for item in PUBLISHED:
        if item.id == figure_id:
            return item
    raise NotFound(f"no published figure '{figure_id}'")
