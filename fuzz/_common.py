"""What every harness shares: which exceptions are refusals, atheris start-up, and the fallback driver.

A harness is a module with ``test_one_input(data: bytes)``, a tuple ``EXPECTED`` of the exception
types that are the parser's documented refusals, and a seed corpus under ``fuzz/corpus/<name>/``.
``test_one_input`` swallows exactly those refusals and lets anything else escape: under atheris an
escaping exception is a crash (libFuzzer writes the input to ``crash-<sha1>`` and exits non-zero).

When atheris is not installed (it is a binary wheel; see fuzz/README.md), ``drive`` runs the same
``test_one_input`` over the seeds and random mutations of them: deterministic, bounded in
executions, but not coverage-guided. Its results are labelled as such wherever they are reported.
"""

from __future__ import annotations

import contextlib
import importlib.util
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def have_atheris() -> bool:
    return importlib.util.find_spec("atheris") is not None


def instrumented(as_main: bool, include: list[str]) -> AbstractContextManager[object]:
    """Coverage instrumentation of ``include`` for imports made inside the block, only when the harness
    runs as the fuzzer's main module (importing it from a test must not need atheris)."""
    if as_main and have_atheris():
        import atheris

        return atheris.instrument_imports(include=include)  # type: ignore[no-any-return]
    return contextlib.nullcontext()


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Hand ``test_one_input`` to libFuzzer; the command line takes libFuzzer's flags and corpus dirs."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def seeds(name: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((CORPUS / name).iterdir()) if p.is_file()]


def mutations(corpus: list[bytes], runs: int, seed: int = 0, max_len: int = 4096) -> Iterator[bytes]:
    """The seeds themselves, then ``runs - len(corpus)`` random mutations of them (fallback driver)."""
    rng = random.Random(seed)
    yield from corpus[:runs]
    for _ in range(max(0, runs - len(corpus))):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(5)
            at = rng.randrange(len(data) + 1)
            if op == 0 and data:  # flip a byte
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif op == 1:  # insert bytes
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            elif op == 2:  # delete a run
                del data[at : at + rng.randint(1, 16)]
            elif op == 3:  # duplicate a slice of another seed
                other = rng.choice(corpus)
                start = rng.randrange(len(other) + 1)
                data[at:at] = other[start : start + rng.randint(1, 64)]
            else:  # an interesting number
                data[at:at] = rng.choice([b"0", b"-1", b"255", b"65536", b"4294967296", b"9" * 20, b"\x00", b"\xff"])
        yield bytes(data[:max_len])


def drive(test_one_input: Callable[[bytes], None], corpus: list[bytes], runs: int, seed: int = 0) -> int:
    """Run the fallback driver; an exception escaping ``test_one_input`` is re-raised with its input."""
    count = 0
    for data in mutations(corpus, runs, seed):
        try:
            test_one_input(data)
        except Exception as exc:
            raise AssertionError(f"crash on input {data!r}") from exc
        count += 1
    return count
