"""A scale corpus for benchmarks: fictional, review-shaped documents in the layout zoo's shapes.

    python -m evals.scale_corpus OUT_DIR --reviews 1570

Each review has its own name ("Child A12", "Baby K7"), partnership, reviewer, review type and a
few themes from evals/scale_themes.toml; for each theme its findings, recommendations, the
responses of the agencies and their progress, laid out the way one of the zoo documents is
(evals/zoo: "Learning Point N" with "R1." and "Response (Police):" lines, "Finding N" with
"Recommendation Na" and "<Agency> response:", an action-plan table, "Finding One" with
"Recommendation i", "Learning N:" with "Action N:", "Recommendation N" headings with Response
and Progress lines, "Key Line of Enquiry N"). Sentences come from the theme file, so many
reviews say similar things in the same words, as real ones do, and their embeddings can be
cached by text. Review i is the same whatever the number of reviews asked for, so a cache built
for a small corpus serves the first reviews of a large one. Everything is invented.
"""

from __future__ import annotations

import argparse
import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from evals.scale_layouts import LAYOUTS

# Bump when the documents change: it keys the cached index (evals/scale_cache.py).
VERSION = "scale-1"
THEMES = Path(__file__).with_name("scale_themes.toml")
FICTION = (
    "This is a fictional document written for software testing; all names and events are invented."
)
NUMBERS = ("three", "four", "five", "six", "seven", "eight", "twelve", "twenty")
PERCENTS = ("48%", "57%", "63%", "71%", "78%", "84%", "89%", "93%")


@dataclass(frozen=True)
class Rec:
    """One recommendation, the agency it is addressed to, and that agency's response."""

    text: str
    agency: str
    response: str
    progress: str
    rating: str


@dataclass(frozen=True)
class Block:
    """What a review says on one theme."""

    theme: str
    title: str
    finding: str
    paragraphs: tuple[str, ...]
    recs: tuple[Rec, ...]
    learning: str


@dataclass(frozen=True)
class Review:
    """One fictional review document, before layout."""

    doc_id: str
    name: str
    place: str
    type_short: str
    type_full: str
    year: int
    month: str
    reviewer: str
    layout: str
    intro: tuple[str, ...]
    chronology: tuple[str, ...]
    blocks: tuple[Block, ...]

    @property
    def partnership(self) -> str:
        """The partnership's full name."""
        return f"{self.place} Safeguarding Children Partnership"


def load_data(path: Path = THEMES) -> dict:
    """The theme file."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _names(data: dict, n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """n distinct review names and a list of partnership place names."""
    places = [a + b for a in data["place_first"] for b in data["place_second"]]
    rng.shuffle(places)
    names = [
        f"{p} {chr(65 + k)}{m}"
        for p in ("Child", "Baby", "Family")
        for k in range(26)
        for m in range(1, 40)
    ]
    random.Random(11).shuffle(names)
    return names[:n], places[:160]


class _Filler:
    """Fills a sentence's slots for one review."""

    def __init__(self, data: dict, rng: random.Random, child: str, place: str):
        self.data, self.rng, self.child, self.place = data, rng, child, place

    def agency(self) -> dict:
        """An agency of the data file."""
        return self.rng.choice(self.data["agency"])

    def __call__(self, template: str, agency: dict | None = None) -> str:
        """The template with its slots filled; a sentence starts with a capital."""
        agency = agency or self.agency()
        text = template.format(
            child=self.child,
            agency=agency["noun"],
            prof=self.rng.choice(self.data["professions"]),
            place=self.place,
            month=self.rng.choice(self.data["months"]),
            n=self.rng.choice(NUMBERS),
            pct=self.rng.choice(PERCENTS),
        )
        return text[0].upper() + text[1:]


def _block(theme: dict, fill: _Filler, rng: random.Random) -> Block:
    """What one review says about one theme: finding paragraphs, 1-3 recommendations."""
    findings = rng.sample(theme["finding"], len(theme["finding"]))
    paragraphs = (
        " ".join(fill(s) for s in findings[1:3]),
        " ".join(fill(s) for s in findings[3:]) + " " + fill(rng.choice(theme["learning"])),
        " ".join(fill(s) for s in rng.sample(fill.data["good_practice"], 3)),
    )
    recs = []
    for text in rng.sample(theme["recommendation"], rng.randint(2, 4)):
        agency = fill.agency()
        answers = rng.sample(theme["response"], 2)
        recs.append(
            Rec(
                fill(text, agency),
                agency["name"],
                fill(answers[0], agency),
                fill(answers[1], agency),
                rng.choice(fill.data["ratings"]),
            )
        )
    return Block(
        theme["name"],
        theme["title"],
        fill(findings[0]),
        paragraphs,
        tuple(recs),
        fill(rng.choice(theme["learning"])),
    )


def _chronology(
    data: dict, themes: list[dict], fill: _Filler, rng: random.Random, year: int
) -> tuple[str, ...]:
    """Dated paragraphs of agency contact, in the words of the review's themes' findings."""
    out = []
    months = sorted(rng.sample(range(24), 20))
    for month in months:
        theme = rng.choice(themes)
        when = f"In {data['months'][month % 12]} {year - 2 + month // 12}"
        agency = fill.agency()
        first, second = rng.sample(theme["finding"], 2)
        out.append(
            f"{when}, {agency['noun']} had contact with the family. "
            + fill(first, agency)
            + " "
            + fill(second)
        )
    return tuple(out)


def _age(name: str, rng: random.Random) -> str:
    """How old the subject of the review was, in words that suit the name."""
    if name.startswith("Baby"):
        return f"{name} was {rng.choice(NUMBERS[:5])} months old at the time."
    if name.startswith("Family"):
        return f"The family had {rng.choice(NUMBERS[:4])} children at the time."
    return f"{name} was {rng.choice(NUMBERS)} years old at the time."


def review(i: int, data: dict | None = None) -> Review:
    """Review number i: the same for every corpus size."""
    data = data or load_data()
    names, places = _names(data, 3000, random.Random(5))
    rng = random.Random(f"{VERSION}-{i}")
    place, name = rng.choice(places), names[i]
    short, full = rng.choice(data["review_types"])
    layout = rng.choice(sorted(LAYOUTS))
    year = rng.randint(2016, 2024)
    fill = _Filler(data, rng, name, place)
    themes = rng.sample(data["theme"], rng.randint(11, 14))
    intro = (
        f"This review was commissioned by the {place} Safeguarding Children Partnership following "
        f"serious harm to {name}. {_age(name, rng)} "
        f"The review looked at the work of agencies with {name} and the family over the "
        f"previous {rng.choice(NUMBERS)} years.",
        f"The review used a systems methodology. Agencies provided chronologies and reports, and "
        f"{rng.choice(NUMBERS)} practitioners took part in learning events. The family were "
        "invited to contribute. The review considers "
        + ", ".join(t["name"] for t in themes[:-1])
        + f" and {themes[-1]['name']}.",
    )
    slug = re.sub(r"[^a-z0-9]+", "-", f"{place} {short} {name}".lower()).strip("-")
    return Review(
        doc_id=f"{slug}-{i:04d}",
        name=name,
        place=place,
        type_short=short,
        type_full=full,
        year=year,
        month=rng.choice(data["months"]),
        reviewer=rng.choice(data["reviewers"]),
        layout=layout,
        intro=intro,
        chronology=_chronology(data, themes, fill, rng, year),
        blocks=tuple(_block(t, fill, rng) for t in themes),
    )


def reviews(n: int, start: int = 0) -> list[Review]:
    """Reviews start .. n-1."""
    data = load_data()
    return [review(i, data) for i in range(start, n)]


CORPUS_WIDE = (
    "What do the reviews say about {theme}?",
    "What have reviews recommended about {theme}?",
    "What are the common findings across the reviews on {theme}?",
    "What have partnerships done in response to recommendations on {theme}?",
    "Which reviews made recommendations about {theme}?",
)
REVIEW_SCOPED = (
    "What did the {name} review recommend about {theme}?",
    "What did the {name} review find about {theme}?",
    "How did {place} respond to the {name} review's recommendations on {theme}?",
    "What did {name} say about {theme}?",
)


def questions(n_reviews: int, count: int, seed: int = 3) -> list[dict]:
    """Benchmark questions on the first n_reviews reviews, alternately corpus-wide (naming no
    review, at least half) and review-scoped (a review and one of its themes)."""
    rng = random.Random(seed)
    data = load_data()
    themes = [t["name"] for t in data["theme"]]
    out = []
    for k in range(count):
        if k % 2 == 0:
            theme = themes[(k // 2) % len(themes)]
            q = CORPUS_WIDE[(k // 2) % len(CORPUS_WIDE)].format(theme=theme)
            out.append({"question": q, "kind": "corpus-wide", "review": None, "theme": theme})
            continue
        r = review(rng.randrange(n_reviews), data)
        theme = rng.choice(r.blocks).theme
        q = REVIEW_SCOPED[(k // 2) % len(REVIEW_SCOPED)].format(
            name=r.name, place=r.place, theme=theme
        )
        out.append({"question": q, "kind": "review-scoped", "review": r.name, "theme": theme})
    return out


def render(r: Review) -> tuple[str, str]:
    """(file name, text) of a review in its layout."""
    ext, fn = LAYOUTS[r.layout]
    return f"{r.doc_id}.{ext}", fn(r, FICTION)


def catalog_entry(r: Review) -> str:
    """The review's catalog.toml table: what a partnership would record for it."""
    title = f"{r.type_full} concerning {r.name}"
    return (
        f'[{r.doc_id}]\ntitle = "{title}"\npartnership = "{r.place}"\nreview = "{r.name}"\n'
        f'review_type = "{r.type_short}"\nkind = "Review report"\nyear = {r.year}\n'
        f'source = "{r.partnership}"\naliases = ["{r.name}"]\n'
    )


def write(n: int, folder: Path, start: int = 0) -> Path:
    """Write reviews start .. n-1 and their catalog.toml into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for r in reviews(n, start):
        name, text = render(r)
        (folder / name).write_text(text, encoding="utf-8")
        entries.append(catalog_entry(r))
    (folder / "catalog.toml").write_text(
        "# Fictional reviews of the scale benchmark (evals/scale_corpus.py).\n\n"
        + "\n".join(entries),
        encoding="utf-8",
    )
    return folder


def main() -> None:
    """Write a scale corpus to a folder."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--reviews", type=int, default=1570)
    a = ap.parse_args()
    write(a.reviews, a.out)
    print(f"wrote {a.reviews} reviews to {a.out}")


if __name__ == "__main__":
    main()
