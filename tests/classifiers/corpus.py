"""The collected corpus: real image-pull messages from public issue threads, forums and docs.

``data/corpus.json`` holds one case per message, copied verbatim from its source (``url``), with
the causes a reader of that message would accept and the image it names (``null`` when it names
none). ``set`` is ``development`` for the messages the rules were written against and
``held-out`` for those collected afterwards, from other threads, to measure how the rules do on
wording they were not written for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_FILE = Path(__file__).resolve().parent / "data" / "corpus.json"
SEED_GUIDE = Path(__file__).resolve().parent / "data" / "seed-aca-image-pull-errors.md"


@dataclass(frozen=True)
class CorpusCase:
    id: str
    set: str
    url: str
    message: str
    causes: tuple[str, ...]
    image: str | None


def load_corpus() -> list[CorpusCase]:
    rows = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
    return [
        CorpusCase(
            id=row["id"],
            set=row["set"],
            url=row["url"],
            message=row["message"],
            causes=tuple(row["causes"]),
            image=row["image"],
        )
        for row in rows
    ]
