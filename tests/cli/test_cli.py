"""The command line as a user (and the acceptance checks) call it, in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command as click_command

from custody.cli.main import app
from custody.law.contract import validate

DOC = {
    "agency": "ocd-division/country:us/state:il/county:cook",
    "on": "2017-08-16",
    "request": {"form": "I-247A", "actions": ["hold", "notify"], "warrant": "administrative"},
    "person": {"convictions": [{"offense": "burglary", "level": "felony"}], "pending_charges": []},
}


BASIS = {"offense": "burglary", "level": "felony"}


def booking_file(folder: Path, number: str) -> Path:
    """A Miami-Dade booking of March 2017, as `custody book --file` reads it."""
    booking = {
        "agency": "ocd-division/country:us/state:fl/county:miami-dade",
        "booking_number": number,
        "booked_at": "2017-03-01T01:00:00-05:00",
        "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
        "charges": [{"offense": "petit theft", "level": "misdemeanor"}],
    }
    path = folder / f"booking-{number}.json"
    path.write_text(json.dumps(booking))
    return path


def custody(*args: str, tmp_path: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    env.pop("CUSTODY_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "custody", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_law_decide_prints_one_decision_as_json(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DOC))
    done = custody("law", "decide", str(path), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    validate("decision", decision)
    assert decision["actions"]["hold"]["status"] == "prohibited"
    assert decision["actions"]["notify"]["citations"][0] == "Cook County Code § 46-37(b)"


def test_json_is_accepted_wherever_a_reader_would_try_it(tmp_path: Path) -> None:
    """`law decide` always prints JSON, and says so when asked for it; `tick --json` gives the lapsed
    holds on stdout (its count went to stderr only)."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DOC))
    done = custody("law", "decide", str(path), "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["actions"]["hold"]["status"] == "prohibited"
    ticked = custody("tick", "--json", tmp_path=tmp_path)
    assert ticked.returncode == 0, ticked.stderr
    assert json.loads(ticked.stdout) == {"lapsed": []}


def test_a_misspelt_county_is_decided_but_the_county_meant_is_named(tmp_path: Path) -> None:
    """ "county:cok" has no law in the library and would be decided on federal and state law alone,
    the opposite of Cook County's answer: stderr and the explanation name the county meant."""

    def decide_at(county: str) -> subprocess.CompletedProcess[str]:
        document = {**DOC, "agency": DOC["agency"].replace("cook", county)}
        return custody("law", "decide", "-", tmp_path=tmp_path, stdin=json.dumps(document))

    done = decide_at("cok")
    assert done.returncode == 0, done.stderr
    assert "Did you mean ocd-division/country:us/state:il/county:cook?" in done.stderr
    assert (
        "If ocd-division/country:us/state:il/county:cook was meant"
        in json.loads(done.stdout)["actions"]["hold"]["explanation"]
    )
    lake = decide_at("lake")
    assert lake.returncode == 0 and "Did you mean" not in lake.stderr  # a real county without law of its own
    worded = decide_at("cook_county")  # the name as people write it
    assert "Did you mean ocd-division/country:us/state:il/county:cook?" in worded.stderr


def test_law_decide_still_decides_when_the_store_cannot_be_opened_and_says_it_was_not_logged(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DOC))
    blocked = tmp_path / "var"
    blocked.write_text("a file where the store's folder should be")
    done = custody("law", "decide", str(path), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    validate("decision", json.loads(done.stdout))
    assert "warning: decision not logged" in done.stderr and "CUSTODY_VAR" in done.stderr
    logged = custody("law", "decide", str(path), tmp_path=tmp_path / "elsewhere")
    assert logged.returncode == 0 and "not logged" not in logged.stderr


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({**DOC, "on": "2017-02-30"}), "on: '2017-02-30' is not a 'date' that exists; write YYYY-MM-DD"),
        ('{"agency": ' + "[" * 1000 + "]" * 1000 + "}", "nested too deeply"),
        (
            json.dumps(
                {
                    **DOC,
                    "person": {
                        **DOC["person"],
                        "convictions": [{"offense": "b", "level": "felony", "date": "2030-01-01"}],
                    },
                }
            ),
            "person.convictions[0].date 2030-01-01 is after the decision date",
        ),
        (
            json.dumps({**DOC, "agency": "ocd-division/country:us/state:IL/county:cook"}),
            "is not written as the contract asks: The division",
        ),
        (json.dumps({**DOC, "agency": "ocd-division/country:us/state:il/ward:1"}), "not a US state, county or place"),
        (json.dumps({k: v for k, v in DOC.items() if k != "person"}), "'person' is a required property"),
        (json.dumps({**DOC, "request": {**DOC["request"], "form": "I-999"}}), "request/form"),
        # found by a review: each of these was decided, or refused with a misleading or raw message
        (
            json.dumps({**DOC, "on": "1900-01-01", "request": {**DOC["request"], "form": "I-247"}}),
            "custody's law library begins on 1997-04-01",
        ),
        (
            json.dumps({**DOC, "agency": DOC["agency"] + "\n"}),
            "'ocd-division/country:us/state:il/county:cook\\n' is not an Open Civic Data division id",
        ),
        # two-byte characters, so the 1 MiB cut falls inside one: still "over", not "not UTF-8"
        ('{"agency": "' + "é" * (1 << 19) + '"}', "standard input is over 1,048,576 bytes"),
        (
            json.dumps(
                {
                    **DOC,
                    "custody": {
                        "status": "pretrial",
                        "basis": {"offense": "b", "level": "felony", "date": "2030-01-01"},
                    },
                }
            ),
            "custody.basis.date 2030-01-01 is after the decision date",
        ),
    ],
)
def test_law_decide_refuses_invalid_input_with_exit_2_and_one_line(tmp_path: Path, document: str, message: str) -> None:
    done = custody("law", "decide", "-", tmp_path=tmp_path, stdin=document)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = custody("--help", tmp_path=tmp_path)
    # the names in the Commands panel: the first word of each row (a row's own continuation has none)
    panel = done.stdout.split("Commands", 1)[1]
    listed = {m.group(1) for m in re.finditer(r"^\S (\S+)\s{2,}", panel, re.MULTILINE)}
    registered = set(click_command(app).commands)  # type: ignore[attr-defined]
    assert listed == registered
    assert {"serve", "book", "request", "respond", "release", "transfer", "tick", "law", "audit"} <= listed


def test_law_decide_writes_utf8_json_under_any_locale_and_reads_past_a_byte_order_mark(tmp_path: Path) -> None:
    """Found by a review: under a Latin-1 locale the citation's "§" failed the command (exit 1), and
    a request saved with a byte-order mark was refused as invalid JSON."""
    path = tmp_path / "request.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOC).encode())
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var"), "PYTHONIOENCODING": "latin-1"}
    env.pop("CUSTODY_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "custody", "law", "decide", str(path)], capture_output=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout.decode("utf-8"))
    assert decision["actions"]["notify"]["citations"][0] == "Cook County Code § 46-37(b)"


PRINT = Path(__file__).parents[1] / "identity" / "prints" / "data" / "p1_1.png"


def finger_options(tmp_path: Path, option: str, *specs: str) -> list[str]:
    """A command taking POSITION=PATH options: `book --print` or `prints search --finger`."""
    given = [part for spec in specs for part in (option, spec)]
    if option == "--print":
        return ["book", "--file", str(booking_file(tmp_path, "M-9")), *given, "--json"]
    return ["prints", "search", *given, "--gallery", str(tmp_path / "gallery"), "--json"]


@pytest.mark.parametrize("option", ["--print", "--finger"])
def test_a_finger_position_in_other_digits_is_refused_as_the_option_s_syntax(tmp_path: Path, option: str) -> None:
    """Found by a review: '²' passed the check of the position (str.isdigit) and failed int() (exit 1)."""
    done = custody(*finger_options(tmp_path, option, f"²={PRINT}"), tmp_path=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {option} ²={PRINT}: write POSITION=PATH, e.g. {option} 2=right_index.png\n"


@pytest.mark.parametrize("option", ["--print", "--finger"])
def test_a_finger_given_twice_is_refused(tmp_path: Path, option: str) -> None:
    """Found by a review: the second image replaced the first without a word (exit 0)."""
    other = PRINT.with_name("p1_2.png")
    done = custody(*finger_options(tmp_path, option, f"2={PRINT}", f"2={other}"), tmp_path=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {option} 2={other}: finger position 2 given twice; give one image a finger\n"


@pytest.mark.parametrize("option", ["--print", "--finger"])
def test_a_finger_position_outside_1_to_10_is_refused(tmp_path: Path, option: str) -> None:
    """Found by a review: `prints search --finger 11=…` answered 'no hit': no finger 11 to compare with."""
    done = custody(*finger_options(tmp_path, option, f"11={PRINT}"), tmp_path=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"error: {option} 11={PRINT}: finger position 11 is not 1-10 (1 = right thumb ... 10 = left little)\n"
    )


def test_book_request_and_release_from_the_command_line(tmp_path: Path) -> None:
    booking_path = booking_file(tmp_path, "M-1")
    image = Path(__file__).parents[1] / "identity" / "prints" / "data" / "p1_1.png"
    done = custody("book", "--file", str(booking_path), "--print", f"1={image}", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    view: dict[str, Any] = json.loads(done.stdout)
    assert "FingerprintStored" in [e["type"] for e in view["timeline"]]
    booking_id = view["id"]
    done = custody(
        "request",
        "--booking",
        booking_id,
        "--form",
        "I-247D",
        "--officer",
        "A. Officer",
        "--issued-at",
        "2017-03-01T05:00:00-05:00",
        "--json",
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)
    assert request["decision"]["actions"]["hold"]["status"] == "required"
    outside = custody(
        "request",
        "--booking",
        booking_id,
        "--form",
        "I-247A",
        "--warrant",
        "I-200",
        "--officer",
        "A. Officer",
        "--issued-at",
        "2017-03-01T05:00:00-05:00",
        tmp_path=tmp_path,
    )
    assert outside.returncode == 2 and "I-247A was not in use on 2017-03-01" in outside.stderr
    for args in (
        ["serve-copy", request["id"], "--at", "2017-03-01T06:00:00-05:00"],
        ["respond", request["id"], "--at", "2017-03-01T06:10:00-05:00"],
        ["release", booking_id, "--reason", "bail", "--at", "2017-03-01T12:00:00-05:00"],
        ["tick", "--now", "2017-03-04T12:00:00-05:00"],
    ):
        done = custody(*args, tmp_path=tmp_path)
        assert done.returncode == 0, (args, done.stderr)
    shown = json.loads(custody("show", booking_id, "--json", tmp_path=tmp_path).stdout)
    assert shown["state"] == "released" and shown["holds"][0]["state"] == "lapsed"
    verify = custody("audit", "verify", tmp_path=tmp_path)
    assert verify.returncode == 0 and "BROKEN" not in verify.stdout
    counted = dict(re.findall(r"^(\S+): (1 entry|\d+ entries), ok$", verify.stdout, re.MULTILINE))
    # the reads of personal data: the records `book`, `request`, `respond` and `release` printed, and `show`
    assert counted["access:cli"] == "5 entries"
    assert counted["ocd-division/country:us/state:fl/county:miami-dade"].endswith(" entries")


def test_a_release_past_an_unserved_i247a_says_how_and_goes_on_when_told(tmp_path: Path) -> None:
    booking_id = json.loads(
        custody("book", "--file", str(booking_file(tmp_path, "M-9")), "--json", tmp_path=tmp_path).stdout
    )["id"]
    issued = ("--form", "I-247A", "--warrant", "I-200", "--officer", "A. Officer", "--issued-at")
    done = custody(
        "request", "--booking", booking_id, *issued, "2017-05-01T05:00:00-04:00", "--json", tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    request_id = json.loads(done.stdout)["id"]
    answered = custody("respond", request_id, "--honor", "hold", "--at", "2017-05-01T06:00:00-04:00", tmp_path=tmp_path)
    assert answered.returncode == 0, answered.stderr
    release = ("release", booking_id, "--reason", "bail", "--at", "2017-05-01T12:00:00-04:00")
    refused = custody(*release, tmp_path=tmp_path)
    assert refused.returncode == 2 and "--detainer-not-served" in refused.stderr, refused.stderr
    done = custody(*release, "--detainer-not-served", "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["state"] == "released" and "DetainerNotInEffect" in [e["type"] for e in shown["timeline"]]


def test_mistakes_at_the_command_line_are_one_line_refusals(tmp_path: Path) -> None:
    """No traceback for a time without its offset, a year out of range, an action both honored and
    declined, a state or page size that is not one, or a store that cannot be opened."""
    for args, said in (
        (["tick", "--now", "2017-08-16T06:05:00"], "has no time zone"),
        (["tick", "--now", "9999-12-31T23:59:59-05:00"], "is out of range; check the year"),
        (["tick", "--now", "2999-01-01T00:00:00Z"], "is in the future"),  # lapsed holds days early (a review)
        (["respond", "req_x", "--honor", "notify", "--decline", "notify"], "both honored and declined"),
        (["requests", "--state", "bogus"], "'bogus' is not one of"),
        (["bookings", "--limit", "0"], "--limit"),
        (["token", "--role", "analyst", "--hours", "nan"], "more than 0 and at most a year"),
        (["worker", "--party", "local:bogus"], "'bogus' is not an Open Civic Data division id"),
        (["simulate", "--days", "1", "--url", "garbage"], "custody's store is SQLite or PostgreSQL, not 'garbage'"),
        (["stats", "chicago-murders", "--from", "1900-01-01", "--to", "1900-02-01"], "extract holds records from"),
    ):
        done = custody(*args, tmp_path=tmp_path)
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    (tmp_path / "blocked").write_text("a file where the store's folder should be")
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "blocked")}
    env.pop("CUSTODY_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "custody", "bookings"], capture_output=True, text=True, env=env)
    assert (
        done.returncode == 2
        and done.stderr.startswith("error: cannot open the store (")
        and "CUSTODY_VAR" in done.stderr
    )


def test_an_unforeseen_fault_is_one_line_and_its_trace_only_at_debug(tmp_path: Path) -> None:
    crash = "import sys; from custody.cli import main; main.app = lambda: 1 / 0; sys.argv = ['custody']; main.main()"
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: custody failed unexpectedly (ZeroDivisionError: division by zero)")
    debug = subprocess.run(
        [sys.executable, "-c", crash], capture_output=True, text=True, env={**env, "CUSTODY_LOG_LEVEL": "DEBUG"}
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_law_show_diff_explain_and_grants_from_the_command_line(tmp_path: Path) -> None:
    cook = "ocd-division/country:us/state:il/county:cook"
    shown = json.loads(custody("law", "show", cook, "--on", "2017-08-16", "--json", tmp_path=tmp_path).stdout)
    assert {"us-8-cfr-287-7", "us-il-cook-ord-11-O-73"} <= {i["id"] for i in shown["instruments"]}
    changed = json.loads(
        custody("law", "diff", cook, "--from", "2017-01-01", "--to", "2018-01-01", "--json", tmp_path=tmp_path).stdout
    )
    assert "us-il-trust-act-2017" in [c["id"] for c in changed["changes"]]
    path = tmp_path / "request.json"
    path.write_text(json.dumps(DOC))
    decision_id = json.loads(custody("law", "decide", str(path), tmp_path=tmp_path).stdout)["decision_id"]
    explained = custody("law", "explain", decision_id, "--json", tmp_path=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["result"]["decision_id"] == decision_id
    missing = custody("law", "explain", "dec_nope", tmp_path=tmp_path)
    assert missing.returncode == 2 and "no logged decision" in missing.stderr
    grants = json.loads(custody("grants", "check", cook, "--fiscal-year", "2017", "--json", tmp_path=tmp_path).stdout)
    assert {c["id"]: c["conflict"] for c in grants["conditions"]}["access"] == "conflicts"


def test_the_documented_identity_enrols(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "identity.json"
    done = custody("enrol", "--file", str(example), "--json", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["identity_id"].startswith("idn_")


def test_a_store_that_refuses_the_work_and_an_interrupt_each_say_what_to_do(tmp_path: Path) -> None:
    """Found by a review: a read-only store gave "custody failed unexpectedly … report it", and Ctrl-C
    a traceback; neither is custody's fault, and both are resolved by running the command again."""
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    refused = (
        "import sys; from sqlalchemy.exc import OperationalError; from custody.cli import main; "
        "main.app = lambda: (_ for _ in ()).throw(OperationalError('UPDATE x', {}, "
        "Exception('attempt to write a readonly database'))); sys.argv = ['custody']; main.main()"
    )
    done = subprocess.run([sys.executable, "-c", refused], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "report it" not in done.stderr
    assert done.stderr.startswith("error: the store could not be used (OperationalError:")
    assert "readonly database" in done.stderr and "reachable and writable" in done.stderr
    interrupted = (
        "import sys; from custody.cli import main; "
        "main.app = lambda: (_ for _ in ()).throw(KeyboardInterrupt()); sys.argv = ['custody']; main.main()"
    )
    done = subprocess.run([sys.executable, "-c", interrupted], capture_output=True, text=True, env=env)
    assert done.returncode == 130 and "Traceback" not in done.stderr and done.stderr.startswith("interrupted:")


def test_who_ran_a_command_is_recorded_with_what_it_changed_and_a_minted_token_is_logged(tmp_path: Path) -> None:
    """Found by a review: changes made from the command line were recorded under "cli" alone, with no
    operating-system user, and `custody token --role administrator --hours 8760` left no trace."""
    import getpass

    from sqlalchemy import create_engine, select

    from custody.audit.access import COMMAND_LINE_CHAIN
    from custody.store.models import AuditEntryRow

    booking_path = booking_file(tmp_path, "M-2")
    assert custody("book", "--file", str(booking_path), tmp_path=tmp_path).returncode == 0
    minted = custody("token", "--role", "administrator", "--hours", "8760", tmp_path=tmp_path)
    assert minted.returncode == 0, minted.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'custody.db'}")
    with engine.connect() as connection:
        entries = connection.execute(select(AuditEntryRow.chain, AuditEntryRow.actor, AuditEntryRow.data)).all()
    engine.dispose()
    operator = f"os:{getpass.getuser()}"
    changes = [e for e in entries if e.chain == "ocd-division/country:us/state:fl/county:miami-dade"]
    assert changes and all(e.actor == operator for e in changes)
    (token,) = [e for e in entries if e.chain == COMMAND_LINE_CHAIN and e.data["route"] == "custody token"]
    assert token.actor == operator and token.data["records"] == {"subject": "cli-administrator"}
    assert token.data["query"]["role"] == "administrator" and token.data["query"]["hours"] == "8760.0"
