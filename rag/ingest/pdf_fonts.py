"""What a PDF font tells about its text: whether it is bold, and how wide its glyphs are.

pypdf's text visitor gives each fragment's start but not its end; the end comes from these widths.
"""

from __future__ import annotations

import contextlib
import re
import statistics

# Glyph width, in thousandths of an em, assumed when a font does not say (a typical average).
DEFAULT_WIDTH = 500.0
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])")
_BOLD_NAME = re.compile(r"bold|black|heavy", re.I)
_BOLD_SUFFIX = re.compile(r"[-,]B[IO]?$")
# A malformed font dictionary can fail in any of pypdf's ways; its text still reads, with default
# widths and weight, so any failure here only loses layout hints.
_FONT_ERRORS = (Exception,)


def _utf16(code: bytes) -> str:
    return bytes.fromhex(code.decode()).decode("utf-16-be", "ignore")


def _codes(cmap: bytes) -> dict[str, int]:
    """Character code of each text a ToUnicode CMap maps to (the first code, if several)."""
    codes: dict[str, int] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        found = _HEX.findall(block)
        for src, dst in zip(found[::2], found[1::2]):
            codes.setdefault(_utf16(dst), int(src, 16))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in _RANGE.findall(block):
            first, count = int(lo, 16), min(int(hi, 16) - int(lo, 16), 0xFFFF) + 1
            if dst.startswith(b"["):
                for k, each in enumerate(_HEX.findall(dst)):
                    codes.setdefault(_utf16(each), first + k)
            else:
                base = int(dst[1:-1], 16)
                for k in range(min(count, 0x10FFFF - base)):
                    codes.setdefault(chr(base + k), first + k)
    return codes


def _cid_widths(w) -> dict[int, float]:
    """A CID font's /W array: `c [w1 w2 ...]` or `c_first c_last w`."""
    out: dict[int, float] = {}
    i = 0
    while i + 1 < len(w):
        first, nxt = int(w[i]), w[i + 1]
        if isinstance(nxt, list):
            out.update({first + k: float(v) for k, v in enumerate(nxt)})
            i += 2
        else:
            out.update({c: float(w[i + 2]) for c in range(first, min(int(nxt), first + 5000) + 1)})
            i += 3
    return out


class Font:
    """A font's weight and glyph widths, read from its dictionary as far as it tells them."""

    def __init__(self, font) -> None:
        self.bold, self.codes, self.widths = False, {}, {}
        with contextlib.suppress(*_FONT_ERRORS):
            self._read(font)
        known = [w for w in self.widths.values() if w > 0]
        self.average = statistics.fmean(known) if known else DEFAULT_WIDTH

    def _read(self, font) -> None:
        name = str(font.get("/BaseFont", "")).split("+")[-1]
        desc = font.get("/FontDescriptor")
        if font.get("/Subtype") == "/Type0":
            cid = font["/DescendantFonts"][0].get_object()
            self.widths = _cid_widths(cid.get("/W", []))
            desc = cid.get("/FontDescriptor")
        elif "/Widths" in font:
            first = int(font.get("/FirstChar", 0))
            self.widths = {first + k: float(v) for k, v in enumerate(font["/Widths"])}
        desc = desc.get_object() if desc is not None else {}
        weight = float(desc.get("/FontWeight", 400))
        force = int(desc.get("/Flags", 0)) & (1 << 18)
        self.bold = bool(
            _BOLD_NAME.search(name) or _BOLD_SUFFIX.search(name) or weight >= 700 or force
        )
        if "/ToUnicode" in font:
            self.codes = _codes(font["/ToUnicode"].get_object().get_data())

    def width(self, text: str) -> float:
        """The advance of `text` in thousandths of an em."""
        total = 0.0
        for ch in text:
            code = self.codes.get(ch, ord(ch) if not self.codes else None)
            total += self.widths.get(code, self.average) if code is not None else self.average
        return total
