"""Safeguarding words a question may use: practitioners' abbreviations ("CP plan", "HV") and
the specific safeguarding issues (county lines, FGM, private fostering) a corpus may not cover."""

from __future__ import annotations

import re

# Abbreviations frontline staff use in questions, with the wordings UK safeguarding documents
# spell them out in, most literal first. Only unambiguous ones: "DS" (detective sergeant? data
# subject?) and "SEND" (a verb in a shouted question) are left out.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "A&E": ("accident and emergency", "emergency department"),
    "AMHP": ("approved mental health professional",),
    "ASC": ("adult social care",),
    "CAMHS": ("child and adolescent mental health services",),
    "CCE": ("child criminal exploitation",),
    "CIN": ("child in need",),
    "CLA": ("child looked after", "looked after child"),
    "CMHT": ("community mental health team",),
    "CP": ("child protection",),
    "CPN": ("community psychiatric nurse", "community mental health nurse", "mental health nurse"),
    "CPP": ("child protection plan",),
    "CSC": ("children's social care",),
    "CSE": ("child sexual exploitation",),
    "DA": ("domestic abuse",),
    "DC": ("detective constable", "police officer"),
    "DSL": ("designated safeguarding lead",),
    "DV": ("domestic violence", "domestic abuse"),
    "ED": ("emergency department",),
    "EHA": ("early help assessment",),
    "EHCP": ("education health and care plan",),
    "FGM": ("female genital mutilation",),
    "FII": ("fabricated or induced illness", "fabricated and induced illness"),
    "FNP": ("family nurse partnership",),
    "HV": ("health visitor",),
    "ICPC": ("initial child protection conference",),
    "IDVA": ("independent domestic violence adviser",),
    "IRO": ("independent reviewing officer",),
    "LA": ("local authority",),
    "LAC": ("looked after child",),
    "LADO": ("local authority designated officer",),
    "MARAC": ("multi-agency risk assessment conference",),
    "MASH": ("multi-agency safeguarding hub",),
    "MH": ("mental health",),
    "NFA": ("no further action",),
    "PC": ("police constable", "police officer"),
    "PCSO": ("police community support officer", "police officer"),
    "PLO": ("public law outline",),
    "PND": ("postnatal depression",),
    "QA": ("quality assurance", "quality assure", "quality assured"),
    "RCPC": ("review child protection conference",),
    "SEN": ("special educational needs",),
    "SGO": ("special guardianship order",),
    "SUDI": ("sudden unexpected death in infancy",),
    "SW": ("social worker",),
}
# Written in capitals as a word of its own, with an optional plural ("HVs", "PCs").
_ABBREVIATION = re.compile(
    r"(?<![\w&])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(s?)(?![\w&])"
)


def _uses(wording: str, vocabulary: set[str]) -> bool:
    """Whether the corpus uses the wording: each pair of its words, the second maybe plural."""
    words = wording.lower().split()
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:])] or words
    return all(p in vocabulary or p + "s" in vocabulary for p in pairs)


def spell_out(question: str, vocabulary: set[str]) -> str:
    """The question with abbreviations the corpus never uses in the corpus's own words.

    "Does coming off a CP plan mean…" is about child protection plans; read as a name the
    reviews never use, it would be abstained on, and neither search would find "child
    protection". An abbreviation is left as written when the corpus uses it, or uses none of
    its wordings: "FGM" stays an unknown name, so a question about it still abstains.
    """

    def words(m: re.Match) -> str:
        abbreviation, plural = m.group(1), m.group(2)
        if abbreviation.lower() in vocabulary:
            return m.group(0)
        used = [w for w in ABBREVIATIONS[abbreviation] if _uses(w, vocabulary)]
        return used[0] + plural if used else m.group(0)

    return _ABBREVIATION.sub(words, question)


# Specific safeguarding issues, as statutory guidance (Working Together, Keeping Children Safe
# in Education) names them. A question about one the corpus never mentions cannot be answered
# from it, however close its passages on other harms are.
TOPICS = (
    "breast ironing",
    "bruise",
    "bruising",
    "bullying",
    "child abduction",
    "child criminal exploitation",
    "child sexual exploitation",
    "child-on-child abuse",
    "county lines",
    "criminal exploitation",
    "cyberbullying",
    "cybercrime",
    "disability",
    "disabilities",
    "disabled child",
    "disabled children",
    "elective home education",
    "electively home educated",
    "emotional abuse",
    "extremism",
    "fabricated or induced illness",
    "female genital mutilation",
    "forced marriage",
    "gang",
    "grooming",
    "harmful sexual behaviour",
    "home educated",
    "honour-based abuse",
    "knife crime",
    "learning difficulty",
    "learning difficulties",
    "missing from education",
    "modern slavery",
    "national referral mechanism",
    "online abuse",
    "online harm",
    "peer-on-peer abuse",
    "private fostering",
    "radicalisation",
    "self-harm",
    "serious violence",
    "sexting",
    "sextortion",
    "sexual abuse",
    "sexual exploitation",
    "sexual harassment",
    "sexual violence",
    "spirit possession",
    "suicide",
    "trafficking",
    "unaccompanied asylum",
    "upskirting",
    "witchcraft",
    "young carer",
)
_TOPIC = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(t) for t in sorted(TOPICS, key=len, reverse=True))
    + r")(?:s|ed|ing)?(?![\w-])",
    re.IGNORECASE,
)


def unnamed_topics(question: str, vocabulary: set[str]) -> tuple[str, ...]:
    """The specific safeguarding issues the question names that the corpus never uses."""
    found = (m.group(1).lower() for m in _TOPIC.finditer(question))
    return tuple(dict.fromkeys(t for t in found if not _topic_used(t, vocabulary)))


def _topic_used(topic: str, vocabulary: set[str]) -> bool:
    # "Fabricated and Induced Illness" is the same issue as "fabricated or induced illness",
    # and a corpus that says "FII" or "CSE" names it too.
    wordings = {topic, topic.replace(" or ", " and "), topic.replace(" and ", " or ")}
    wordings |= {a for a, spelled in ABBREVIATIONS.items() if topic in spelled}
    return any(_uses(w, vocabulary) for w in wordings)
