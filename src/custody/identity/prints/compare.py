"""Many comparisons at once, spread over processes because bozorth3 in nbis-py holds a global lock.

Each image is read, checked and extracted once however many pairs name it; the pairs are then
scored in chunks, each worker keeping its own matcher. A pair whose image cannot be read or is
refused gets no score and a reason, which the FVC protocol counts as a non-match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from custody.identity.prints.images import Capture, UnreadableImage, load
from custody.identity.prints.matcher import Matcher
from custody.identity.prints.quality import UnusableCapture, check_capture, check_template
from custody.identity.prints.templates import Template

CHUNK = 256
MatcherFactory = Callable[[], Matcher]


@dataclass(frozen=True)
class PairScore:
    probe: str
    reference: str
    score: float | None
    problem: str | None = None


_worker: Matcher | None = None


def _start(factory: MatcherFactory) -> None:
    global _worker
    _worker = factory()


def _matcher() -> Matcher:
    if _worker is None:
        raise RuntimeError("worker started without a matcher")
    return _worker


def extract_file(path: str) -> Template | str:
    """The template of one image file, or the reason there is none."""
    try:
        capture = load(Path(path))
        check_capture(capture, name=path)
        template = _matcher().extract(capture)
        check_template(template, name=path)
    except (UnreadableImage, UnusableCapture) as exc:
        return str(exc)
    return template


def _score_chunk(chunk: list[tuple[Template, Template]]) -> list[float]:
    return _score_with(_matcher(), chunk)


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


def compare_pairs(
    pairs: list[tuple[str, str]], factory: MatcherFactory, *, workers: int | None = None
) -> Iterator[PairScore]:
    """Score every pair in input order (probe and reference echoed exactly as given)."""
    with _pool(factory, workers or default_workers()) as pool:
        paths = list(dict.fromkeys(p for pair in pairs for p in pair))
        templates = dict(zip(paths, pool.map(extract_file, paths, chunksize=8), strict=True))
        scorable = [
            (a, b) for a, b in pairs if isinstance(templates[a], Template) and isinstance(templates[b], Template)
        ]
        jobs = [
            [(_as_template(templates[a]), _as_template(templates[b])) for a, b in scorable[i : i + CHUNK]]
            for i in range(0, len(scorable), CHUNK)
        ]
        scores = iter(s for chunk in pool.map(_score_chunk, jobs) for s in chunk)
        for a, b in pairs:
            problems = [t for t in (templates[a], templates[b]) if isinstance(t, str)]
            yield (
                PairScore(a, b, None, "; ".join(dict.fromkeys(problems))) if problems else PairScore(a, b, next(scores))
            )


def _as_template(value: Template | str) -> Template:
    if isinstance(value, str):
        raise TypeError(value)
    return value


def _pool(factory: MatcherFactory, workers: int) -> Executor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_start, initargs=(factory,))


def _extract_capture(item: tuple[Capture, str]) -> Template | str:
    capture, name = item
    try:
        check_capture(capture, name=name)
        template = _matcher().extract(capture)
        check_template(template, name=name)
    except UnusableCapture as exc:
        return str(exc)
    return template


class Workers:
    """A pool of matcher processes kept for many calls (a search, a benchmark), or none for one.

    ``compare`` scores template pairs in input order, split into one chunk per worker so a
    search's shortlist is compared on every core; ``extract`` extracts captures the same way.
    """

    def __init__(self, factory: MatcherFactory, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._local = factory() if self.workers == 1 else None
        self._pool = None if self.workers == 1 else _pool(factory, self.workers)

    def compare(self, pairs: list[tuple[Template, Template]]) -> list[float]:
        if self._pool is None:
            return _score_with(self._matcher(), pairs)
        size = max(1, -(-len(pairs) // self.workers))
        chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        return [s for chunk in self._pool.map(_score_chunk, chunks) for s in chunk]

    def extract(self, captures: list[tuple[Capture, str]]) -> list[Template | str]:
        if self._pool is None:
            global _worker
            _worker = self._matcher()
            return [_extract_capture(c) for c in captures]
        return list(self._pool.map(_extract_capture, captures))

    def _matcher(self) -> Matcher:
        if self._local is None:
            raise RuntimeError("no local matcher in a pooled Workers")
        return self._local

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _score_with(matcher: Matcher, pairs: list[tuple[Template, Template]]) -> list[float]:
    return [matcher.compare(a, b) for a, b in pairs]
