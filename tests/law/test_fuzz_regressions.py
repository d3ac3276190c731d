"""Inputs the fuzzers (fuzz/decision_request.py, fuzz/rule_loader.py) found that crashed the
DecisionRequest parser or the rule-file loader instead of being refused with InvalidInput (issue 9).

A crash not fixed yet is marked xfail(strict): its fix makes it XPASS, which fails, so the marker
and its entry in fuzz/known.py are removed together.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from custody.domain.errors import InvalidInput
from custody.law.engine import decide
from custody.law.loader import load_library
from tests.law.scratch_library import RULE, write_library


def _library(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_library(tmp_path / "library", files)


def test_a_deeply_nested_request_is_refused_not_crashed() -> None:
    # 500 nested lists: json.loads (as the API and `custody law decide` use it) reads this, but the
    # copy made before validation recurses two frames per level and runs out of stack.
    document = json.loads('{"agency": ' + "[" * 500 + "]" * 500 + "}")
    with pytest.raises(InvalidInput):
        decide(document)


@pytest.mark.parametrize(
    "text",
    ["{}\n", "", "forms: 3\n", "forms: [I-247]\n", "- forms\n"],
    ids=["no-forms-key", "empty-file", "not-a-list", "entry-not-a-mapping", "top-level-list"],
)
def test_a_forms_file_without_a_list_of_forms_is_refused(tmp_path: Path, text: str) -> None:
    # _forms reads read_yaml(path)["forms"] and entry.get(...) before checking either's shape.
    with pytest.raises(InvalidInput, match=r"forms\.yaml"):
        load_library(_library(tmp_path, {"forms.yaml": text}))


def test_a_rule_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    # read_yaml catches YAML errors but reads the file with read_text(encoding="utf-8") first.
    root = _library(tmp_path, {})
    (root / "ocd-division" / "country:us" / "test.yaml").write_bytes(b"instrument:\n  name: Ordonnance \xd6\n")
    with pytest.raises(InvalidInput, match=r"test\.yaml"):
        load_library(root)


@pytest.mark.parametrize("text", ["effective_from: 2017-02-29\n", "2017-02-30\n"], ids=["in-a-mapping", "top-level"])
def test_a_rule_file_with_an_impossible_date_is_refused(tmp_path: Path, text: str) -> None:
    # PyYAML builds the date itself and raises ValueError, which is not a YAMLError, so read_yaml
    # lets it through without naming the file.
    with pytest.raises(InvalidInput, match=r"test\.yaml"):
        load_library(_library(tmp_path, {"test.yaml": text}))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("test.yaml", RULE.replace("    effect: prohibited\n", "    effect: allowed\n")),
        ("test.yaml", RULE.replace("        effect: permitted\n", "        effect: allowed\n")),
        (
            "test.yaml",
            RULE.replace("    effect: prohibited\n", "    effect: prohibited\n    hold_clock: business_days\n"),
        ),
        (
            "forms.yaml",
            "forms:\n  - {name: I-247A, title: Detainer, citation: DHS Form I-247A,"
            " requires_administrative_warrant: true, hold_clock: excluding_weekends_and_Holidays}\n",
        ),
    ],
    ids=["rule-effect", "exception-effect", "rule-hold-clock", "form-hold-clock"],
)
def test_an_unknown_effect_or_clock_is_refused(tmp_path: Path, name: str, text: str) -> None:
    # Effect(...) and HoldClock(...) raise ValueError; actions are wrapped into InvalidInput, these are not.
    assert text not in (RULE,)
    with pytest.raises(InvalidInput, match=re.escape(name)):
        load_library(_library(tmp_path, {name: text}))


@pytest.mark.parametrize(
    "text",
    [
        RULE.replace("      - id: test-1-1-b\n", "      - just words\n      - id: test-1-1-b\n"),
        RULE.replace("    says: No hold on a detainer.\n", "    says: 5\n"),
        RULE[: RULE.index("rules:")] + "rules: 3\n",
        RULE + "offense_lists: [violent-felonies]\n",
    ],
    ids=["exception-not-a-mapping", "says-not-text", "rules-not-a-list", "offense-list-not-a-mapping"],
)
def test_a_rule_file_of_the_wrong_shape_is_refused(tmp_path: Path, text: str) -> None:
    # _rule, _instrument and _offense_lists call .get/.split or iterate before checking the shape
    # (the fuzzer found the first; the others are the same unchecked reads).
    with pytest.raises(InvalidInput, match=r"test\.yaml"):
        load_library(_library(tmp_path, {"test.yaml": text}))


@pytest.mark.parametrize("text", ["{[a]: b}\n", "? {a: 1}\n: x\n"], ids=["list-key", "mapping-key"])
def test_a_mapping_key_that_is_a_list_or_mapping_is_refused(tmp_path: Path, text: str) -> None:
    # _no_duplicates puts each key in a set before PyYAML's own check for unhashable keys runs.
    with pytest.raises(InvalidInput, match=r"test\.yaml"):
        load_library(_library(tmp_path, {"test.yaml": text}))
