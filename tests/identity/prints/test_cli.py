"""`custody prints inspect` and `custody prints compare` as the acceptance checks call them."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from custody.cli.main import app
from custody.identity import biometrics
from custody.identity.prints import cli as prints_cli
from custody.identity.prints.ansi_nist import Record, TaggedRecord, finger_image, type4, write_transaction
from custody.identity.prints.gallery import DEFAULT_THRESHOLD, Gallery, Identity
from custody.identity.prints.images import Capture, wsq_encode
from custody.identity.settings import ExaminerConfirmation, SearchSettings

DATA = Path(__file__).parent / "data"


def prints(*args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``custody prints …``; ``store``: the SQLite store whose access log records enrol and search."""
    env = {**os.environ, "CUSTODY_DATABASE_URL": f"sqlite:///{store}"} if store else None
    return subprocess.run(
        [sys.executable, "-m", "custody", "prints", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_inspect_json_is_the_contract(tmp_path: Path, booking_records: list[Record], booking_file: bytes) -> None:
    path = tmp_path / "booking.eft"
    path.write_bytes(booking_file)
    done = prints("inspect", str(path), "--json")
    assert done.returncode == 0, done.stderr
    expected_fingers = [finger_image(r).summary() for r in booking_records if r.type in (4, 14)]
    assert json.loads(done.stdout) == {
        "version": "0201",
        "records": [{"type": r.type, "idc": r.idc} for r in booking_records],
        "fingers": expected_fingers,
    }
    assert {f["width"] for f in expected_fingers} == {400}


def test_inspect_truncated_file_exits_2_with_one_line(tmp_path: Path, booking_file: bytes) -> None:
    path = tmp_path / "cut.eft"
    path.write_bytes(booking_file[: len(booking_file) - 500])
    done = prints("inspect", str(path), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "record 5 (Type-14, IDC 3), field 14.001 LEN" in done.stderr


@pytest.mark.parametrize("command", ["inspect", "enroll", "search"])
def test_a_malformed_finger_field_exits_2_with_one_line(
    tmp_path: Path, booking_records: list[Record], command: str
) -> None:
    """Found by a review: a finger position 'abc' in field 14.013 failed 'unexpectedly' (exit 1)."""
    type14 = next(r for r in booking_records if r.type == 14)
    assert isinstance(type14, TaggedRecord)
    path = tmp_path / "booking.eft"
    path.write_bytes(write_transaction([booking_records[0], TaggedRecord(14, {**type14.fields, 13: b"abc"})]))
    gallery = ["--gallery", str(tmp_path / "gallery")]
    options = {"inspect": [], "enroll": ["--id", "FBI-1", *gallery], "search": gallery}[command]
    done = prints(command, str(path), *options, "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Type-14 record (IDC 3), field 14.013: expected a number, found 'abc'" in done.stderr


def test_compare_scores_every_row_in_order(tmp_path: Path) -> None:
    rows = [
        (str(DATA / "p1_1.png"), str(DATA / "p1_2.png")),
        (str(DATA / "p1_1.png"), str(DATA / "p2_1.png")),
        ("no/such/print.png", str(DATA / "p1_2.png")),
        (str(DATA / "p2_2.png"), str(DATA / "p2_1.png")),
        ("", str(DATA / "p1_2.png")),
    ]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("probe,reference\n" + "".join(f"{a},{b}\n" for a, b in rows))
    done = prints("compare", "--pairs", str(pairs), "--workers", "2")
    assert done.returncode == 0, done.stderr
    out = list(csv.reader(io.StringIO(done.stdout)))
    assert out[0] == ["probe", "reference", "score"]
    assert [(r[0], r[1]) for r in out[1:]] == rows
    scores = [r[2] for r in out[1:]]
    assert scores[2] == "" and scores[4] == ""
    assert "no/such/print.png" in done.stderr
    assert ",{}: no image named (an empty cell)".format(DATA / "p1_2.png") in done.stderr
    mate, non_mate, other_mate = float(scores[0]), float(scores[1]), float(scores[3])
    assert min(mate, other_mate) > non_mate


def test_compare_reads_the_header_without_case_or_spaces_and_in_any_column(tmp_path: Path) -> None:
    probe, reference = str(DATA / "p1_1.png"), str(DATA / "p1_2.png")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"Reference , Probe,note\n{reference},{probe},x\n")
    done = prints("compare", "--pairs", str(pairs), "--workers", "1")
    assert done.returncode == 0, done.stderr
    ((got_probe, got_reference, score),) = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert (got_probe, got_reference) == (probe, reference) and float(score) > 0


def test_compare_refuses_a_cell_too_long_for_a_path_with_one_line(tmp_path: Path) -> None:
    """Found by a review: a cell over 131,072 characters stopped the reader (csv.Error, exit 1)."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"probe,reference\n{DATA / 'p1_1.png'},{DATA / 'p1_2.png'}\n{'x' * 200_000},y\n")
    done = prints("compare", "--pairs", str(pairs))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"error: {pairs}, line 3: not CSV custody reads (field larger than field limit (131072)); "
        "write a probe,reference pair of image paths a line\n"
    )


def test_enroll_a_booking_then_search_its_prints(tmp_path: Path, booking_file: bytes) -> None:
    booking = tmp_path / "booking.eft"
    booking.write_bytes(booking_file)
    gallery, store = str(tmp_path / "gallery"), tmp_path / "custody.db"
    enrolled = prints(
        "enroll", str(booking), "--id", "FBI-1", "--alias", "ROE, JACK", "--gallery", gallery, "--json", store=store
    )
    assert enrolled.returncode == 0, enrolled.stderr
    identity = json.loads(enrolled.stdout)["identity"]
    assert identity["names"] == ["DOE, JOHN"]  # from field 2.018 of the transaction
    assert identity["fingers"] == [1, 2, 7]

    found = prints("search", "--finger", f"1={DATA / 'p1_2.png'}", "--gallery", gallery, "--json", store=store)
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["decision"] == "pending confirmation"
    best = result["candidates"][0]
    assert (best["id"], best["aliases"], best["status"]) == ("FBI-1", ["ROE, JACK"], "pending confirmation")
    assert list(best["finger_scores"]) == ["1"]
    # both printed personal data: each left its entry in the store's access log, naming the identity
    with sqlite3.connect(store) as db:
        logged = [
            json.loads(d)
            for (d,) in db.execute("SELECT data FROM audit_entries WHERE chain = 'access:cli' ORDER BY seq")
        ]
    assert [(e["route"], e["records"], e["outcome"]) for e in logged] == [
        ("custody prints enroll", {"identities": "FBI-1"}, "allowed"),
        ("custody prints search", {"identities": "FBI-1"}, "allowed"),
    ]


def test_enroll_names_the_image_of_a_finger_it_set_aside_for_another(
    tmp_path: Path, booking_records: list[Record], samples: dict[str, Capture]
) -> None:
    """A transaction may hold two impressions of one finger (rolled and plain); the one with more
    minutiae is used. Found by a review: the other was dropped without a word ('refused': [])."""
    header, _type2, thumb, index = booking_records[:4]
    other = samples["p2_2"]
    again = type4(4, 2, other.width, other.height, wsq_encode(other))
    booking = tmp_path / "booking.eft"
    booking.write_bytes(write_transaction([header, thumb, index, again]))
    done = prints(
        "enroll", str(booking), "--id", "FBI-1", "--name", "DOE, JOHN", "--gallery", str(tmp_path / "g"), "--json"
    )
    assert done.returncode == 0, done.stderr
    ((set_aside),) = json.loads(done.stdout)["refused"]
    used = ({f"{booking} Type-4 IDC 2", f"{booking} Type-4 IDC 4"} - {set_aside["source"]}).pop()
    assert set_aside["position"] == 2
    assert set_aside["reason"] == f"another image of finger 2 has more minutiae and was used: {used}"
    assert set_aside["reason"] in done.stderr


def test_a_transaction_s_record_of_no_single_finger_is_refused_with_its_reason(
    tmp_path: Path, booking_records: list[Record], samples: dict[str, Capture]
) -> None:
    """Found by a review: a record of finger position 99 was searched and answered 'no hit'. A slap
    (13-15) or an unknown finger (0) is not compared either: a search compares like fingers."""
    slap = samples["p2_2"]
    booking = tmp_path / "booking.eft"
    header, _type2, thumb = booking_records[:3]
    records = [type4(4 + i, p, slap.width, slap.height, wsq_encode(slap)) for i, p in enumerate((0, 13, 99))]
    booking.write_bytes(write_transaction([header, thumb, *records]))
    gallery = ["--gallery", str(tmp_path / "g")]
    done = prints("enroll", str(booking), "--id", "FBI-1", "--name", "DOE, JOHN", *gallery, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["identity"]["fingers"] == [1]
    assert [(r["position"], r["reason"]) for r in json.loads(done.stdout)["refused"]] == [
        (p, f"{booking} Type-4 IDC {4 + i}: finger position {p} is not 1-10 (1 = right thumb ... 10 = left little)")
        for i, p in enumerate((0, 13, 99))
    ]
    booking.write_bytes(write_transaction([header, records[2]]))
    done = prints("search", str(booking), *gallery, "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert "no usable finger to search with: " in done.stderr and "finger position 99 is not 1-10" in done.stderr


def test_search_in_a_damaged_gallery_exits_2_with_one_line(tmp_path: Path) -> None:
    """Found by a review: a gallery whose records could not be read failed 'unexpectedly' (exit 1)."""
    gallery = tmp_path / "gallery"
    enrolled = prints(
        "enroll",
        "--finger",
        f"1={DATA / 'p1_1.png'}",
        "--id",
        "FBI-1",
        "--name",
        "DOE, JOHN",
        "--gallery",
        str(gallery),
    )
    assert enrolled.returncode == 0, enrolled.stderr
    records = gallery / "templates.bin"
    records.write_bytes(bytes(len(records.read_bytes())))  # every record garbled, none of the files cut
    done = prints("search", "--finger", f"1={DATA / 'p1_2.png'}", "--gallery", str(gallery), "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1].startswith(f"error: {gallery}: the gallery cannot be opened")


def test_enroll_into_a_gallery_path_that_is_a_file_exits_2_with_one_line(tmp_path: Path) -> None:
    """Found by a review: FileExistsError, exit 1."""
    taken = tmp_path / "notes.txt"
    taken.write_text("not a gallery")
    done = prints(
        "enroll", "--finger", f"1={DATA / 'p1_1.png'}", "--id", "FBI-1", "--name", "DOE, JOHN", "--gallery", str(taken)
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        f"error: {taken} cannot hold the gallery (File exists): name a directory (--gallery, or CUSTODY_GALLERY)"
    )


def test_search_refuses_to_return_no_candidate(tmp_path: Path) -> None:
    """Found by a review: --top 0 answered 'no hit' with a mate scoring 248 in the gallery."""
    done = prints("search", "--finger", f"1={DATA / 'p1_2.png'}", "--gallery", str(tmp_path), "--top", "0", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: --top 0: give how many candidates to return, 1 or more\n"


def test_search_without_a_gallery_says_how_to_make_one(tmp_path: Path) -> None:
    done = prints("search", "--finger", f"1={DATA / 'p1_2.png'}", "--gallery", str(tmp_path / "none"), "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert "enrol an identity to create one" in done.stderr


def test_compare_takes_other_sizes_formats_and_refuses_a_blank(tmp_path: Path, samples: dict[str, Capture]) -> None:
    """Other sensors: a larger platen (640×480 JPEG), a WSQ file, a blank capture with no score; a BOM."""
    canvas = np.full((480, 640), 235, dtype=np.uint8)
    mate = samples["p1_2"].pixels[30:470]  # 400×440 of its 400×500
    canvas[20:460, 120:520] = mate
    large = tmp_path / "p1_2 on a large platen.jpg"
    Image.fromarray(canvas).save(large, quality=95)
    wsq = tmp_path / "p1_1.wsq"
    wsq.write_bytes(wsq_encode(samples["p1_1"]))
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((300, 300), 180, dtype=np.uint8)).save(blank)
    rows = [(str(wsq), str(large)), (str(wsq), str(DATA / "p2_1.png")), (str(blank), str(large))]
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="", encoding="utf-8-sig") as handle:  # as a spreadsheet saves it
        csv.writer(handle).writerows([("probe", "reference"), *rows])
    done = prints("compare", "--pairs", str(pairs))
    assert done.returncode == 0, done.stderr
    out = list(csv.reader(io.StringIO(done.stdout)))
    assert [(r[0], r[1]) for r in out[1:]] == rows
    assert float(out[1][2]) > float(out[2][2])
    assert out[3][2] == "" and "no ridge contrast" in done.stderr


def test_compare_names_the_engines_when_given_an_unknown_one(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("probe,reference\n")
    done = prints("compare", "--pairs", str(pairs), "--matcher", "sourceafis")
    assert done.returncode == 2
    assert "custody, nbis" in done.stderr


def test_enroll_and_search_default_to_the_gallery_a_bookings_prints_are_searched_in(
    tmp_path: Path, booking_file: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --gallery, the gallery of the store's folder (CUSTODY_VAR), as the search a booking
    triggers uses; CUSTODY_GALLERY names another for both."""
    from custody.identity.settings import from_environment

    booking = tmp_path / "booking.eft"
    booking.write_bytes(booking_file)
    var = tmp_path / "var"
    env = {**os.environ, "CUSTODY_VAR": str(var), "CUSTODY_DATABASE_URL": f"sqlite:///{tmp_path / 'custody.db'}"}
    env.pop("CUSTODY_GALLERY", None)
    run = [sys.executable, "-m", "custody", "prints"]
    done = subprocess.run([*run, "enroll", str(booking), "--id", "FBI-9"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert (var / "gallery").is_dir()
    monkeypatch.setenv("CUSTODY_VAR", str(var))
    monkeypatch.delenv("CUSTODY_GALLERY", raising=False)
    assert from_environment().gallery == var / "gallery"  # the booking-triggered search's gallery
    elsewhere = tmp_path / "elsewhere"
    env["CUSTODY_GALLERY"] = str(elsewhere)
    found = subprocess.run(
        [*run, "search", "--finger", f"1={DATA / 'p1_2.png'}", "--json"], capture_output=True, text=True, env=env
    )
    assert found.returncode != 0 and str(elsewhere) in found.stderr  # no gallery there: named in the refusal
    del env["CUSTODY_GALLERY"]
    found = subprocess.run(
        [*run, "search", "--finger", f"1={DATA / 'p1_2.png'}", "--json"], capture_output=True, text=True, env=env
    )
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["candidates"][0]["id"] == "FBI-9"


def test_enroll_saves_over_no_enrolment_made_while_it_read_the_prints(
    tmp_path: Path, booking_file: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the command opened the gallery, read the prints (seconds), then saved,
    with no lock; a server's enrolment in between was cut off the files. It now reads the prints
    first and holds the gallery alone from opening to saving, as every enrolment does."""
    booking = tmp_path / "booking.eft"
    booking.write_bytes(booking_file)
    gallery = tmp_path / "gallery"
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.db'}")
    real = prints_cli._extract

    def extract_while_the_server_enrols(*args: Any) -> Any:
        found = real(*args)
        search = SearchSettings(gallery, DEFAULT_THRESHOLD, ExaminerConfirmation.required)
        biometrics.enrol_templates(search, Identity("idn_SERVER", ("SERVER, ONE",)), found[0])
        return found

    monkeypatch.setattr(prints_cli, "_extract", extract_while_the_server_enrols)
    done = CliRunner().invoke(app, ["prints", "enroll", str(booking), "--id", "FBI-1", "--gallery", str(gallery)])
    assert done.exit_code == 0, done.output
    kept = Gallery.open(gallery)
    assert "idn_SERVER" in kept and "FBI-1" in kept and len(kept) == 2


def test_enroll_lets_the_gallery_go_before_it_writes_the_store(
    tmp_path: Path, booking_file: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the command wrote its access entry while it still held the gallery, and a
    server keeping a booking's prints holds the store's write lock while it waits for the gallery:
    each waited on the other until the store gave up (SQLite's busy timeout). Here the server's
    side takes the store's write lock while the command saves, then waits for the gallery."""
    booking = tmp_path / "booking.eft"
    booking.write_bytes(booking_file)
    gallery, database = tmp_path / "gallery", tmp_path / "custody.db"
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{database}")
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    holding, server_done = threading.Event(), threading.Event()

    def server() -> None:
        with sqlite3.connect(database, timeout=30, isolation_level=None) as store:
            store.execute("BEGIN IMMEDIATE")  # a booking's transaction, its identity rows written
            holding.set()
            with biometrics.changing(gallery):  # keeping its prints: waits for the gallery
                pass
            store.execute("COMMIT")
        server_done.set()

    real_save = Gallery.save

    def save_while_the_server_books(self: Gallery) -> None:
        real_save(self)
        threading.Thread(target=server, daemon=True).start()
        assert holding.wait(30)

    monkeypatch.setattr(Gallery, "save", save_while_the_server_books)
    done = CliRunner().invoke(app, ["prints", "enroll", str(booking), "--id", "FBI-1", "--gallery", str(gallery)])
    assert done.exit_code == 0, done.output
    assert server_done.wait(30)
