"""Count the mentions live traffic leaves unresolved, for the review queue.

``/resolve`` and ``/reconcile`` tell the collector of each mention they
answer ``unmatched`` or ``ambiguous``: a dictionary update under a lock, keyed
by the mention as written, with no normalising and no I/O on the request's
path. ``/annotate`` hands over its whole annotation, kept in a list; the
background thread tells its ambiguous mentions and the capitalised names it
found no entity for, then hands the counts, gathered by normal form, to the
database every few seconds and once more at shutdown (``app.review_queue``),
as increments that the workers and replicas add up.

Memory is bounded by ``max_forms`` distinct mentions between two flushes:
past it, new mentions are not counted (``refused`` says how many) while those
already held go on counting. A flood of random text thus costs at most the
bound, and the forms that recur, the ones worth an editor's time, are still
counted. Annotations wait for the flush up to ``MAX_HELD_CHARACTERS`` of
text; past it a text's names are not counted (``refused_texts``), so under
heavy load the names are counted from a sample of the texts.
"""

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app import review_queue
from app.matching.annotate import Annotation
from app.matching.normalize import normalize
from app.matching.resolve import Candidate, Resolution, Status
from app.models.fields import CONTROL_CHARACTERS
from app.models.tables import MAX_REVIEW_FORM_LENGTH
from app.review_queue import Tally

log = logging.getLogger(__name__)

MAX_FORMS = 10_000
# Annotated text held for its names until the next flush: about 8 bytes a character.
MAX_HELD_CHARACTERS = 1_000_000
# Candidates kept per form: enough to show an editor the choice.
MAX_CANDIDATES = 5
# What no alias may hold: control characters and lone surrogates.
_CONTROL_RE = re.compile(f"[{CONTROL_CHARACTERS}\ud800-\udfff]")


@dataclass(slots=True)
class _Sighting:
    count: int
    first_seen: float
    last_seen: float
    candidates: tuple[Candidate, ...]


class ReviewCollector:
    def __init__(self, *, max_forms: int = MAX_FORMS) -> None:
        self.max_forms = max_forms
        self.refused = 0
        self.refused_texts = 0
        self.open_items: int | None = None  # as of the last flush or read
        self._open_items_at = 0.0  # time.monotonic() of that flush or read
        self._seen: dict[str, _Sighting] = {}
        self._annotations: list[tuple[Annotation, float]] = []
        self._held_characters = 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Distinct mentions held, not yet flushed."""
        return len(self._seen)

    # --- the request's path ------------------------------------------------------------

    def note(
        self, written: str, candidates: Sequence[Candidate] = (), *, at: float | None = None
    ) -> None:
        """Count one unresolved mention, with its candidates if any are known,
        seen ``at`` (seconds since the epoch; now by default)."""
        if not written or len(written) > MAX_REVIEW_FORM_LENGTH:
            return
        now = time.time() if at is None else at
        kept = tuple(candidates[:MAX_CANDIDATES])
        with self._lock:
            sighting = self._seen.get(written)
            if sighting is not None:
                sighting.count += 1
                sighting.last_seen = now
                sighting.candidates = kept or sighting.candidates
            elif len(self._seen) < self.max_forms:
                self._seen[written] = _Sighting(1, now, now, kept)
            else:
                self.refused += 1

    def note_resolution(self, resolution: Resolution) -> None:
        if resolution.status is not Status.MATCHED:
            self.note(resolution.query, resolution.candidates)

    def note_annotation(self, annotation: Annotation) -> None:
        """Hold an annotated text until the next flush, which counts its
        ambiguous mentions and the names it found no entity for: telling
        those names is work the request need not wait for."""
        size = len(annotation.spotted.text)
        with self._lock:
            if self._held_characters + size <= MAX_HELD_CHARACTERS:
                self._annotations.append((annotation, time.time()))
                self._held_characters += size
            else:
                self.refused_texts += 1

    def _count_annotations(self) -> None:
        with self._lock:
            held, self._annotations, self._held_characters = self._annotations, [], 0
        for annotation, at in held:
            for mention in annotation.mentions:
                if mention.resolution.status is Status.AMBIGUOUS:
                    self.note(mention.text, mention.resolution.candidates, at=at)
            for name in annotation.unresolved():
                self.note(name, at=at)

    def held(self) -> list[Tally]:
        """What the next flush would write."""
        self._count_annotations()
        with self._lock:
            seen = dict(self._seen)
        return by_form(seen)

    # --- flushing ---------------------------------------------------------------------

    def flush(self, engine: Engine) -> int:
        """Add the counts held to the database; the number of forms written.

        When the database cannot take them they are held again, within the
        bound, for the next flush.
        """
        with self._flushing:
            self._count_annotations()
            with self._lock:
                seen, self._seen = self._seen, {}
            tallies = by_form(seen)
            if not tallies:
                return 0
            try:
                with Session(engine) as session:
                    review_queue.record(session=session, tallies=tallies)
                    self._found_open_items(review_queue.open_count(session=session))
            except Exception:
                self._hold_again(seen)
                raise
            return len(tallies)

    def open_count(self, engine: Engine, *, max_age: float) -> int:
        """Open forms in the review queue: as the last flush or read found
        them if that was within ``max_age`` seconds, else read again (a count
        of the open rows, which an index serves)."""
        if self.open_items is not None and time.monotonic() - self._open_items_at <= max_age:
            return self.open_items
        with Session(engine) as session:
            return self._found_open_items(review_queue.open_count(session=session))

    def _found_open_items(self, count: int) -> int:
        self.open_items, self._open_items_at = count, time.monotonic()
        return count

    def _hold_again(self, seen: dict[str, _Sighting]) -> None:
        with self._lock:
            for written, earlier in seen.items():
                sighting = self._seen.get(written)
                if sighting is not None:
                    sighting.count += earlier.count
                    sighting.first_seen = earlier.first_seen
                elif len(self._seen) < self.max_forms:
                    self._seen[written] = earlier

    def start(self, engine: Engine, interval: float) -> None:
        """Flush every ``interval`` seconds in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._flush_every, args=(engine, interval), name="review-flush", daemon=True
        )
        self._thread.start()

    def stop(self, engine: Engine) -> None:
        """Stop the thread, and flush what it had not."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush(engine)
        except Exception as error:
            log.warning("the review counts of this process were lost at shutdown: %s", error)

    def _flush_every(self, engine: Engine, interval: float) -> None:
        failing = False
        while not self._stop.wait(interval):
            try:
                self.flush(engine)
                failing = False
            except Exception as error:  # held again; tried at the next round
                if not failing:
                    log.warning("the review counts could not be written: %s", error)
                failing = True


def by_form(seen: dict[str, _Sighting]) -> list[Tally]:
    """The sightings gathered by normal form: counts added, the earliest first
    sighting and the latest last, the most frequent spelling as the example,
    and the latest candidates known. Forms empty, too long or with control
    characters (which no alias may hold) are dropped."""
    gathered: dict[str, list[tuple[str, _Sighting]]] = {}
    for written, sighting in seen.items():
        form = normalize(written)
        if form and len(form) <= MAX_REVIEW_FORM_LENGTH and not _CONTROL_RE.search(written):
            gathered.setdefault(form, []).append((written.strip(), sighting))
    return [_tally(form, spellings) for form, spellings in gathered.items()]


def _tally(form: str, spellings: list[tuple[str, _Sighting]]) -> Tally:
    sightings = [s for _, s in spellings]
    example = max(spellings, key=lambda pair: pair[1].count)[0]
    with_candidates = [s for s in sightings if s.candidates]
    latest = max(with_candidates, key=lambda s: s.last_seen) if with_candidates else None
    return Tally(
        form=form,
        example=example,
        count=sum(s.count for s in sightings),
        first_seen=_utc(min(s.first_seen for s in sightings)),
        last_seen=_utc(max(s.last_seen for s in sightings)),
        candidates=tuple((c.entity.id, c.score) for c in latest.candidates) if latest else (),
    )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
