"""Practitioner abbreviations that the reviews spell out ("CP plan", "HV", "a PC")."""

from __future__ import annotations

import re

# Abbreviations frontline staff use in questions, as UK safeguarding documents spell them out.
# Only unambiguous ones: "DS" (detective sergeant? data subject?) and "SEND" (a verb in a
# shouted question) are left out.
ABBREVIATIONS = {
    "A&E": "accident and emergency",
    "CAMHS": "child and adolescent mental health services",
    "CCE": "child criminal exploitation",
    "CIN": "child in need",
    "CLA": "child looked after",
    "CP": "child protection",
    "CPP": "child protection plan",
    "CSC": "children's social care",
    "CSE": "child sexual exploitation",
    "DA": "domestic abuse",
    "DC": "detective constable",
    "DSL": "designated safeguarding lead",
    "DV": "domestic violence",
    "ED": "emergency department",
    "FGM": "female genital mutilation",
    "FNP": "family nurse partnership",
    "HV": "health visitor",
    "ICPC": "initial child protection conference",
    "IDVA": "independent domestic violence adviser",
    "IRO": "independent reviewing officer",
    "LA": "local authority",
    "LAC": "looked after child",
    "LADO": "local authority designated officer",
    "MARAC": "multi-agency risk assessment conference",
    "MASH": "multi-agency safeguarding hub",
    "PC": "police constable",
    "PLO": "public law outline",
    "PND": "postnatal depression",
    "RCPC": "review child protection conference",
    "SGO": "special guardianship order",
    "SUDI": "sudden unexpected death in infancy",
    "SW": "social worker",
}
# Written in capitals as a word of its own, with an optional plural ("HVs", "PCs").
_ABBREVIATION = re.compile(
    r"(?<![\w&])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(s?)(?![\w&])"
)


def spell_out(question: str, vocabulary: set[str]) -> str:
    """The question with each abbreviation the corpus never uses replaced by its words.

    "Does coming off a CP plan mean…" is about child protection plans; read as a name the
    reviews never use, it would be abstained on, and neither search would find "child
    protection". An abbreviation the corpus does use is left as written.
    """

    def words(m: re.Match) -> str:
        abbreviation, plural = m.group(1), m.group(2)
        if abbreviation.lower() in vocabulary:
            return m.group(0)
        return ABBREVIATIONS[abbreviation] + plural

    return _ABBREVIATION.sub(words, question)
