"""Incident-type classifier: suggests the SOP incident type for a call-taker's free-text note."""
# The notes are informal Bahasa Indonesia (abbreviations, slang, Banjar words, typos, some
# English). Text is normalised, reduced to root words by a dictionary-gated stemmer, and scored
# against weighted terms per type: the SOP keywords (administrators' input) plus the built-in
# vocabulary. The word lists are data, in data/classify/vocabulary.yaml (see `vocabulary`); the
# rules that use them are here. Everything expensive is precomputed in the constructor so that
# `classify` stays well under a millisecond on the intake hot path.
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from siaga112.sop.schemas import IncidentType

from .vocabulary import Vocabulary, load_vocabulary


@dataclass(frozen=True)
class Classification:
    """A suggested incident type with confidence in [0, 1] and up to three alternatives."""

    type_code: str
    confidence: float
    alternatives: tuple[str, ...]


# Weights for the administrators' SOP keywords; a phrase is more specific than one word.
_SOP_WORD_WEIGHT = 3.0
_SOP_PHRASE_WEIGHT = 3.5
# Context terms add at most this much, so a pile of nouns cannot outweigh a real cue.
_CONTEXT_CAP = 3.0
# Up to this many tokens may sit between consecutive words of a phrase.
_PHRASE_GAP = 2
# Confidence reaches 1 - 1/e at this score; one strong cue is about 3.
_SCORE_SCALE = 3.0
# An alternative must score at least this share of the winner to be called plausible.
_ALTERNATIVE_SHARE = 0.2
_PRANK = "PRANK"

# Multi-word expressions whose parts are stopwords on their own ("lalu" = "then").
_COMPOUND_RE = re.compile(r"\b(?:lalu[\s-]+lintas|lalin)\b")
_JARGON = (
    (re.compile(r"\br\s?2\b"), " motor "),
    (re.compile(r"\br\s?[46]\b"), " mobil "),
    (re.compile(r"\bg\s?\d+\s?p\s?\d+(?:\s?a\s?\d+)?\b"), " gravida "),  # obstetric "G2P1A0"
)
_TOKEN_RE = re.compile(r"_q|[a-z]+")
# "kejang2" -> "kejang", "kebut2an" -> "kebutan": "2" marks a reduplicated word.
_REDUP_RE = re.compile(r"\b([a-z]{2,})2([a-z]*)\b")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")  # "tolonggg" -> "tolong"

_VOWELS = frozenset("aeiou")


def _place_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """One pattern for the place names: their words may be apart by any whitespace, and a hyphen
    may also be written as a space or left out ("Api-Api", "api api", "apiapi")."""
    spellings = (r"\s+".join(word.replace("-", r"[\s-]*") for word in name.split()) for name in names)
    return re.compile(r"\b(?:" + "|".join(spellings) + r")\b")


class _Language:
    """Text to word tokens, and words to the forms their affixes hide, with one vocabulary."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.slang = dict(vocabulary.slang)
        self.stopwords = frozenset(vocabulary.stopwords)
        self.negators = frozenset(vocabulary.negators)
        self.opaque = frozenset(vocabulary.opaque)
        self.places = _place_pattern(vocabulary.hazard_place_names)
        affixes = vocabulary.affixes
        # Suffixes are tried in particle -> possessive -> derivational order.
        self.particles = affixes.particles
        self.derivational = affixes.derivational
        self.prefixes = affixes.prefixes
        self.nasals = tuple(affixes.nasal_prefixes.items())

    def normalise(self, text: str) -> list[str]:
        """Lower-case, de-accent, expand slang; return word tokens (negators and stopwords kept)."""
        text = text.lower()
        if not text.isascii():
            text = unicodedata.normalize("NFKD", text)
            text = "".join(c for c in text if not unicodedata.combining(c))
        # A village named after a hazard ("Api-Api", "Sungai Parit") is not a fire or a river.
        text = self.places.sub(" ", text)
        text = _COMPOUND_RE.sub(" lalulintas ", text)
        for pattern, replacement in _JARGON:
            text = pattern.sub(replacement, text)
        text = text.replace("n't", " not").replace("?", " _q ")
        text = _REDUP_RE.sub(r"\1\2", text)
        text = _REPEAT_RE.sub(r"\1", text)
        slang = self.slang
        tokens: list[str] = []
        for tok in _TOKEN_RE.findall(text):
            expanded = slang.get(tok, tok)
            for part in expanded.split():
                # "tidak ada" is one negator ("no X"), so "ada" does not dilute its scope.
                if part == "ada" and tokens and tokens[-1] == "tidak":
                    tokens[-1] = "tiada"
                elif not tokens or tokens[-1] != part:  # "muntah muntah" -> "muntah"
                    tokens.append(part)
        return tokens

    def _prefix_forms(self, word: str) -> list[str]:
        """Forms of a word with one Indonesian/Banjar prefix removed, with nasal restoration."""
        forms: list[str] = []
        for p in self.prefixes:
            if word.startswith(p) and len(word) - len(p) >= 3:
                forms.append(word[len(p):])
        # Nasal prefixes (meN-, peN- and the informal bare N-) drop or change the root's first
        # letter: "menabrak" carries n, so the root is "tabrak".
        for nasal, kind in self.nasals:
            if not word.startswith(nasal) or len(word) - len(nasal) < 3:
                continue
            rest = word[len(nasal):]
            first = rest[0]
            if kind == "ng":
                forms.append(rest)
                if first in _VOWELS:
                    forms.append("k" + rest)
            elif kind == "ny":
                if first in _VOWELS:
                    forms.extend(("s" + rest, "c" + rest))
            elif kind == "m":
                if first in _VOWELS:
                    forms.append("p" + rest)
                elif first in "bfp":
                    forms.append(rest)
            elif kind == "n":
                if first in _VOWELS:
                    forms.append("t" + rest)
                elif first in "dcjzt":
                    forms.append(rest)
        return forms

    def _suffix_forms(self, word: str) -> list[str]:
        """Forms of a word with particle, possessive and derivational suffixes removed."""
        forms = [word]
        for p in self.particles:
            if word.endswith(p) and len(word) - len(p) >= 3:
                forms.append(word[: -len(p)])
                break
        for base in list(forms):
            for s in self.derivational:
                if base.endswith(s) and len(base) - len(s) >= 3:
                    forms.append(base[: -len(s)])
        return forms

    def candidates(self, word: str) -> list[str]:
        """All affix-stripped forms of a word (up to two prefixes), longest first, deduplicated."""
        seen: dict[str, None] = {}
        for s in self._suffix_forms(word):
            seen.setdefault(s, None)
            for p1 in self._prefix_forms(s):
                seen.setdefault(p1, None)
                for p2 in self._prefix_forms(p1):
                    seen.setdefault(p2, None)
        return sorted(seen, key=len, reverse=True)


# eq=False: each term is unique, and identity hashing keeps the hot path cheap.
@dataclass(frozen=True, eq=False)
class _Term:
    """One weighted cue for one type: a root word or a phrase of roots."""

    type_index: int
    words: tuple[str, ...]
    weight: float
    core: bool


class Classifier:
    """Suggests an incident type for a free-text description; build once, call often."""

    def __init__(
        self,
        types: Iterable[IncidentType],
        fallback_code: str = "OTHER",
        threshold: float = 0.4,
        place_names: Iterable[str] = (),
        vocabulary: Vocabulary | None = None,
    ) -> None:
        # The word lists: the packaged vocabulary (read once per process) unless one is given.
        vocabulary = vocabulary or load_vocabulary()
        self._language = language = _Language(vocabulary)
        self._stopwords, self._negators = language.stopwords, language.negators
        # The fallback type is never scored: it is the answer when the best confidence is under
        # the threshold, returned with that (low) confidence and the best candidates.
        self._types = [t for t in types if t.code != fallback_code]
        self._fallback = fallback_code
        self._threshold = threshold
        self._codes = [t.code for t in self._types]
        # Ties go to the more urgent type: missing a life-threatening call costs more.
        self._rank = [(t.priority, t.code) for t in self._types]
        index = {t.code: i for i, t in enumerate(self._types)}

        raw = [(index[code], term, weight, core)
               for code, term, weight, core in vocabulary.weighted_terms() if code in index]
        # Built-in terms are written as roots, so their words form the stemmer's dictionary.
        self._roots: set[str] = {w for _, term, _, _ in raw for w in language.normalise(term)}
        # Names of the regency's desa and kecamatan are never stemmed or fuzzy-matched
        # ("Karang Jinawi" is not "arang", charcoal); words that are vocabulary stay vocabulary.
        self._opaque = language.opaque | {
            w for name in place_names for w in re.findall(r"[a-z]+", name.lower())
            if len(w) >= 4 and w not in self._roots}
        self._cache: dict[str, str | None] = {}
        sop_raw: list[tuple[int, str, float, bool]] = []
        for t in self._types:
            for kw in t.keywords:
                words = [w for w in language.normalise(kw)
                         if w not in self._stopwords or w in self._negators]
                weight = _SOP_PHRASE_WEIGHT if len(words) > 1 else _SOP_WORD_WEIGHT
                sop_raw.append((index[t.code], kw, weight, True))
                # An admin's new word becomes a root itself when it is not an inflection of one.
                for w in words:
                    if w not in self._roots and self._exact_stem(w) is None:
                        self._roots.add(w)
        self._fuzzy_targets = self._build_fuzzy_targets()

        best: dict[tuple[int, tuple[str, ...]], _Term] = {}
        for type_index, text, weight, core in raw + sop_raw:
            content = tuple(self._content(text))
            if not content:
                continue
            key = (type_index, content)
            # A cue the built-ins already know keeps their calibrated weight ("asap" alone is
            # weak evidence of a structure fire); the SOP adds the cues they do not know.
            best.setdefault(key, _Term(type_index, content, weight, core))
        self._unigrams: dict[str, list[_Term]] = {}
        self._phrases: dict[str, list[tuple[_Term, tuple[str, ...]]]] = {}
        for term in best.values():
            if len(term.words) == 1:
                self._unigrams.setdefault(term.words[0], []).append(term)
            else:
                self._phrases.setdefault(term.words[0], []).append((term, term.words))
                # "lahan terbakar" == "terbakar lahan", but "tidak sadar" keeps its order.
                if len(term.words) == 2 and not self._negators & set(term.words):
                    rev = term.words[::-1]
                    self._phrases.setdefault(rev[0], []).append((term, rev))

    # ---------------------------------------------------------------- text -> roots

    def _exact_stem(self, word: str) -> str | None:
        """The longest dictionary root the word reduces to by affix stripping, if any."""
        for cand in self._language.candidates(word):
            if cand in self._roots:
                return cand
        return None

    def _build_fuzzy_targets(self) -> dict[tuple[str, int], tuple[list[str], list[str]]]:
        """Spellings to compare typos with, by (first letter, length): roots and derivations."""
        pairs: dict[str, str] = {}
        for root in sorted(self._roots):
            if len(root) < 4 or root in self._opaque or root.startswith("_"):
                continue
            # A bare root under 6 letters is one typo away from too many everyday words
            # ("curhat" vs "curat"); its longer derived forms are still safe targets.
            forms = ("ter" + root, "di" + root, "ke" + root + "an", root + "an", "ber" + root,
                     "ke" + root)
            for form in (root, *forms) if len(root) >= 6 else forms:
                pairs.setdefault(form, root)
        buckets: dict[tuple[str, int], tuple[list[str], list[str]]] = {}
        for form, root in sorted(pairs.items()):
            bucket_forms, bucket_roots = buckets.setdefault((form[0], len(form)), ([], []))
            bucket_forms.append(form)
            bucket_roots.append(root)
        return buckets

    def _fuzzy_stem(self, word: str) -> str | None:
        """A root for a misspelt word: one edit (two for long words), same first letter."""
        if len(word) < 5:
            return None
        max_edits = 2 if len(word) >= 9 else 1
        forms: list[str] = []
        roots: list[str] = []
        for length in range(len(word) - max_edits, len(word) + max_edits + 1):
            bucket = self._fuzzy_targets.get((word[0], length))
            if bucket is not None:
                forms += bucket[0]
                roots += bucket[1]
        best: tuple[float, int, str] | None = None
        for form, dist, idx in process.extract(
            word, forms, scorer=OSA.distance, score_cutoff=max_edits, limit=5
        ):
            # In shorter words one substituted letter is usually another real word ("agung" is
            # not "apung", "terjadi" is not "terjudi"): there only dropped, doubled or swapped
            # letters are typos.
            if len(word) < 8 and len(form) == len(word) and sorted(form) != sorted(word):
                continue
            # Fewest edits first; on a tie the longer root is the more specific reading.
            candidate = (dist, -len(roots[idx]), roots[idx])
            if best is None or candidate < best:
                best = candidate
        return best[2] if best else None

    def _stem(self, word: str) -> str | None:
        """Root of one token, or None when it is not vocabulary (cached)."""
        if word in self._cache:
            return self._cache[word]
        if word in self._roots:
            stem: str | None = word
        elif word in self._opaque:
            stem = None
        else:
            stem = self._exact_stem(word) or self._fuzzy_stem(word)
        if len(self._cache) > 50_000:  # bounded: free text has an open vocabulary
            self._cache.clear()
        self._cache[word] = stem
        return stem

    def _content(self, text: str) -> list[str]:
        """Content tokens as roots; unknown words stay as "" so phrase gaps stay honest."""
        out: list[str] = []
        negators, stopwords = self._negators, self._stopwords
        for tok in self._language.normalise(text):
            if tok in negators:
                out.append(tok)
            elif tok not in stopwords:
                stem = self._stem(tok)
                out.append(stem if stem is not None else "")
        return out

    # ---------------------------------------------------------------- scoring

    def _scores(self, words: list[str]) -> list[float]:
        """Score every type: matched core cues plus capped context cues."""
        # Insertion-ordered (text order), so sums never depend on memory addresses.
        matched: dict[_Term, None] = {}
        negators = self._negators
        in_phrase = [False] * len(words)
        n = len(words)
        for i, w in enumerate(words):
            for term, seq in self._phrases.get(w, ()):
                if term in matched:
                    continue
                pos, j = [i], i
                for nxt in seq[1:]:
                    # A negator binds to the very next word: "air naik, tidak bisa keluar"
                    # must not read as "air tidak keluar".
                    gap = 0 if words[j] in negators else _PHRASE_GAP
                    for k in range(j + 1, min(n, j + 2 + gap)):
                        if words[k] == nxt:
                            pos.append(k)
                            j = k
                            break
                    else:
                        break
                if len(pos) == len(seq):
                    matched[term] = None
                    for k in pos:
                        in_phrase[k] = True
        for i, w in enumerate(words):
            # "bukan banjir", "tidak ada api": a negated word is no evidence, unless a phrase
            # already gave it its meaning ("tidak sadar").
            if i > 0 and words[i - 1] in negators and not in_phrase[i]:
                continue
            matched.update(dict.fromkeys(self._unigrams.get(w, ())))
        core = [0.0] * len(self._types)
        context = [0.0] * len(self._types)
        for term in matched:
            if term.core:
                core[term.type_index] += term.weight
            else:
                context[term.type_index] += term.weight
        return [c + min(x, _CONTEXT_CAP) if c > 0 else 0.0 for c, x in zip(core, context, strict=True)]

    def _confidence(self, best: float, second: float) -> float:
        """Confidence from the winner's evidence strength, discounted when a rival is close."""
        if best <= 0:
            return 0.0
        strength = 1.0 - math.exp(-best / _SCORE_SCALE)
        margin = (best - max(second, 0.0)) / best
        return round(strength * (0.6 + 0.4 * margin), 4)

    @staticmethod
    def _prank_obvious(scores: list[float], ranked: list[int]) -> bool:
        """Prank wins only as the sole strong reading: a real emergency must never be lost."""
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        return scores[ranked[0]] >= 4.0 and second < 1.5

    def classify(self, description: str) -> Classification:
        """Suggest the incident type for one description."""
        words = self._content(description or "")
        if not any(words):
            return Classification(self._fallback, 0.0, ())
        scores = self._scores(words)
        ranked = sorted(
            (i for i, s in enumerate(scores) if s > 0),
            key=lambda i: (-scores[i], self._rank[i]),
        )
        if ranked and self._codes[ranked[0]] == _PRANK and not self._prank_obvious(scores, ranked):
            ranked = ranked[1:]
        if not ranked:
            return Classification(self._fallback, 0.0, ())
        top, rivals = ranked[0], [i for i in ranked[1:] if self._codes[i] != _PRANK]
        confidence = self._confidence(scores[top], scores[rivals[0]] if rivals else 0.0)
        if confidence < self._threshold:
            return Classification(
                self._fallback, confidence, tuple(self._codes[i] for i in [top, *rivals][:3])
            )
        plausible = [i for i in rivals if scores[i] >= _ALTERNATIVE_SHARE * scores[top]]
        return Classification(
            self._codes[top], confidence, tuple(self._codes[i] for i in plausible[:3])
        )
