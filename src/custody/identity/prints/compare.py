"""Many comparisons at once, spread over processes (bozorth3 in nbis-py holds a global lock).

Each image is read, checked and extracted once however many pairs name it. Every worker then
receives all the features once and scores pairs of indices, so an engine that prepares something
per image (custody's cylinders) does it once per worker rather than once per pair. Each worker is
limited to one BLAS thread: the matrices are small, and threads fighting over the cores cost more
than they give. A pair whose image cannot be read or is refused gets no score and a reason, which
the FVC protocol counts as a non-match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from custody.identity.prints.images import Capture, UnreadableImage, load, resolutions_of
from custody.identity.prints.matcher import Matcher, NbisMatcher
from custody.identity.prints.quality import UnusableCapture, check_capture, check_template
from custody.identity.prints.templates import Template

CHUNK = 256
EXTRACT_CHUNK = 8  # images a worker takes at a time
Features = TypeVar("Features")
Pair = TypeVar("Pair")
MatcherFactory = Callable[[], Matcher[Any]]


@dataclass(frozen=True)
class PairScore:
    probe: str
    reference: str
    score: float | None
    problem: str | None = None


_worker: Matcher[Any] | None = None
_features: Sequence[Any] = ()
_meant: Mapping[int, int] = {}  # recorded resolution → the one the ridges say (images.resolutions_of)


def _start(factory: MatcherFactory, features: Sequence[Any] = (), meant: Mapping[int, int] | None = None) -> None:
    global _worker, _features, _meant
    threadpool_limits(1)
    _worker = factory()
    _features = features
    _meant = meant or {}


def _matcher() -> Matcher[Any]:
    if _worker is None:
        raise RuntimeError("worker started without a matcher")
    return _worker


def extract_file(path: str) -> Any:
    """The features of one image file, or the reason (a str) there are none."""
    if not path.strip():
        return "no image named (an empty cell)"
    try:
        capture = load(Path(path))
        if capture.ppi in _meant:
            capture = Capture(capture.pixels, _meant[capture.ppi])
        return _extract(_matcher(), capture, path)
    except (UnreadableImage, UnusableCapture) as exc:
        return str(exc)


def _extract(matcher: Matcher[Features], capture: Capture, name: str) -> Features:
    check_capture(capture, name=name)
    features = matcher.extract(capture)
    check_template(matcher.template(features), name=name)
    return features


def _score_chunk(chunk: list[tuple[Any, Any]]) -> list[float]:
    return _matcher().compare_many(chunk)


def _score_records(chunk: list[tuple[Template, bytes]]) -> list[float]:
    return _records_with(_matcher(), chunk)


def _records_with(matcher: Matcher[Any], pairs: list[tuple[Template, bytes]]) -> list[float]:
    if not isinstance(matcher, NbisMatcher):
        raise TypeError(f"stored records are compared with bozorth3 (NbisMatcher), not {matcher.name}")
    return matcher.compare_records(pairs)


def _score_indices(chunk: list[tuple[int, int]]) -> list[float]:
    return _matcher().compare_many([(_features[a], _features[b]) for a, b in chunk])


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


def compare_pairs(
    pairs: list[tuple[str, str]], factory: MatcherFactory, *, workers: int | None = None
) -> Iterator[PairScore]:
    """Score every pair in input order (probe and reference echoed exactly as given)."""
    count = workers or default_workers()
    paths = list(dict.fromkeys(p for pair in pairs for p in pair))
    meant = resolutions_of([p for p in paths if p.strip()])
    try:
        with _pool(factory, count, meant=meant) as pool:
            extracted = dict(zip(paths, pool.map(extract_file, paths, chunksize=EXTRACT_CHUNK), strict=True))
    except BrokenProcessPool:
        extracted = _extract_apart(factory, paths, meant)
    usable = [p for p in paths if not isinstance(extracted[p], str)]
    index = {p: i for i, p in enumerate(usable)}
    scorable = [(index[a], index[b]) for a, b in pairs if a in index and b in index]
    jobs = [scorable[i : i + CHUNK] for i in range(0, len(scorable), CHUNK)]
    with _pool(factory, min(count, max(len(jobs), 1)), [extracted[p] for p in usable]) as pool:
        scores = iter([s for chunk in pool.map(_score_indices, jobs) for s in chunk])
    for a, b in pairs:
        problems = [str(extracted[p]) for p in (a, b) if isinstance(extracted[p], str)]
        yield PairScore(a, b, None, "; ".join(dict.fromkeys(problems))) if problems else PairScore(a, b, next(scores))


def _extract_apart(factory: MatcherFactory, paths: list[str], meant: Mapping[int, int]) -> dict[str, Any]:
    """Extraction again after a worker died, a few images to a process, then one image to a process
    for the few that killed theirs. An image can crash its decoder's C code (a corrupt WSQ file
    makes NBIS's decoder read out of bounds), which kills the worker and, with it, every pair of
    the run; such an image gets a reason instead, like any unreadable one. Slower, and only run
    after a crash."""
    extracted: dict[str, Any] = {}
    for chunk in (paths[i : i + EXTRACT_CHUNK] for i in range(0, len(paths), EXTRACT_CHUNK)):
        try:
            with _pool(factory, 1, meant=meant) as pool:
                extracted.update(zip(chunk, pool.map(extract_file, chunk), strict=True))
            continue
        except BrokenProcessPool:
            pass
        for path in chunk:
            try:
                with _pool(factory, 1, meant=meant) as pool:
                    extracted[path] = pool.submit(extract_file, path).result()
            except BrokenProcessPool:
                extracted[path] = f"{path}: reading it crashed the image decoder (a corrupt or malformed file)"
    return extracted


def _pool(
    factory: MatcherFactory, workers: int, features: Sequence[Any] = (), meant: Mapping[int, int] | None = None
) -> Executor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_start, initargs=(factory, features, meant))


def _features_or_reason(matcher: Matcher[Any], capture: Capture, name: str) -> Any:
    """The capture's features, or why it cannot be used (one refused finger does not stop the rest)."""
    try:
        return _extract(matcher, capture, name)
    except UnusableCapture as exc:
        return str(exc)


def _extract_capture(item: tuple[Capture, str]) -> Any:
    return _features_or_reason(_matcher(), *item)


class Workers:
    """A pool of matcher processes kept for many calls (a search, a benchmark), or none for one.

    Features pass through as the engine made them (templates for NBIS). ``compare`` scores pairs
    in input order, split into one chunk per worker so a search's shortlist is compared on every
    core; ``extract`` extracts captures the same way.
    """

    def __init__(self, factory: MatcherFactory, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._local = factory() if self.workers == 1 else None
        self._pool = None if self.workers == 1 else _pool(factory, self.workers)

    def compare(self, pairs: list[tuple[Any, Any]]) -> list[float]:
        if self._pool is None:
            return self._matcher().compare_many(pairs)
        return self._spread(_score_chunk, pairs)

    def _spread(self, score: Callable[[list[Pair]], list[float]], pairs: list[Pair]) -> list[float]:
        """One chunk of ``pairs`` per worker, scored by ``score`` there, in input order."""
        assert self._pool is not None
        size = max(1, -(-len(pairs) // self.workers))
        chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        return [s for chunk in self._pool.map(score, chunks) for s in chunk]

    def compare_records(self, pairs: list[tuple[Template, bytes]]) -> list[float]:
        """Probe templates against stored records (a gallery's ``Compare``), split as ``compare``."""
        if self._pool is None:
            return _records_with(self._matcher(), pairs)
        return self._spread(_score_records, pairs)

    def extract(self, captures: list[tuple[Capture, str]]) -> list[Any]:
        if self._pool is None:
            return [_features_or_reason(self._matcher(), capture, name) for capture, name in captures]
        return list(self._pool.map(_extract_capture, captures))

    def templates_by_finger(
        self, readable: Sequence[tuple[int, Capture, str]], replaces: Callable[[Template, Template], bool]
    ) -> tuple[dict[int, Template], list[tuple[int, str, str]], list[tuple[int, str, str]]]:
        """One template per finger position from (position, capture, name) — where a position has
        several usable ones, a later one takes the place of the one kept when ``replaces(new, kept)``
        —, every capture refused, as (position, name, reason), and every usable one set aside for
        another, as (position, name, the name of the one used)."""
        kept: dict[int, tuple[Template, int]] = {}  # position: the template, its capture's index
        usable: list[tuple[int, int]] = []  # position, capture's index
        refused: list[tuple[int, str, str]] = []
        extracted = self.extract([(capture, name) for _position, capture, name in readable])
        for index, ((position, _capture, name), result) in enumerate(zip(readable, extracted, strict=True)):
            if isinstance(result, str):
                refused.append((position, name, result))
                continue
            usable.append((position, index))
            if position not in kept or replaces(result, kept[position][0]):
                kept[position] = (result, index)
        set_aside = [(p, readable[i][2], readable[kept[p][1]][2]) for p, i in usable if kept[p][1] != i]
        return {position: template for position, (template, _index) in kept.items()}, refused, set_aside

    def _matcher(self) -> Matcher[Any]:
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
