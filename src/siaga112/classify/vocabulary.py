"""The classifier's word lists, read from `data/classify/vocabulary.yaml` and checked on loading."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from ruamel.yaml.error import YAMLError

from siaga112.sop.positions import KEY, line_of, load_tree, plain, syntax_error


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; names every problem with its line."""

    def __init__(self, problems: Sequence[tuple[int | None, str]], source: str) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{source}: line {line}: {message}" for line, message in problems))


def _shaped(pattern: str, shape: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(text: str) -> str:
        if not compiled.fullmatch(text):
            raise PydanticCustomError("vocabulary_word", "{text} must be {shape}",
                                      {"text": repr(text), "shape": shape})
        return text

    return AfterValidator(check)


def _comma_separated(value: Any) -> Any:
    # A list is written as words separated by commas, possibly over several lines.
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list):
        return tuple(value)
    raise PydanticCustomError("vocabulary_list", "must be words separated by commas, got {got}",
                              {"got": repr(value)})


# Text is normalised to lower-case ASCII words before it meets these lists: a word in any other
# spelling could never match, so it is refused as the typo it is.
Word = Annotated[str, _shaped(r"[a-z]+", "one lower-case word (letters a-z)")]
Phrase = Annotated[str, _shaped(r"[a-z_]+(?: [a-z_]+)*", "lower-case words separated by single spaces")]
PlaceName = Annotated[str, _shaped(r"[a-z]+(?:[ -][a-z]+)*",
                                   "lower-case words separated by a space or a hyphen")]
TypeCode = Annotated[str, _shaped(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*",
                                  "an incident type code such as FIRE-BLDG")]
Words = Annotated[tuple[Word, ...], BeforeValidator(_comma_separated)]
Phrases = Annotated[tuple[Phrase, ...], BeforeValidator(_comma_separated)]
PlaceNames = Annotated[tuple[PlaceName, ...], BeforeValidator(_comma_separated)]


class _Section(BaseModel):
    """A mapping of the vocabulary file: unknown keys are typos, and nothing is coerced."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Affixes(_Section):
    particles: Words
    derivational: Words
    prefixes: Words
    # The nasal a prefix carries decides how the root's first letter is restored.
    nasal_prefixes: dict[Word, Literal["ng", "ny", "m", "n"]]


class TypeTerms(_Section):
    """weight -> terms; core terms are evidence on their own, context terms only beside them."""

    core: dict[float, Phrases] = {}
    context: dict[float, Phrases] = {}


class Vocabulary(_Section):
    """The word lists; the data file's comments say what each one is for."""

    slang: dict[Word, Phrase]
    stopwords: Words
    negators: Words
    opaque: Words
    hazard_place_names: PlaceNames
    affixes: Affixes
    terms: dict[TypeCode, TypeTerms]

    def weighted_terms(self) -> Iterator[tuple[str, str, float, bool]]:
        """(type code, term, weight, is core) in the file's order: the first of a repeat wins."""
        for code, terms in self.terms.items():
            for core, by_weight in ((True, terms.core), (False, terms.context)):
                for weight, phrases in by_weight.items():
                    for phrase in phrases:
                        yield code, phrase, weight, core


def default_vocabulary_path() -> Path:
    """Path of the vocabulary shipped with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "classify" / "vocabulary.yaml"


@functools.cache
def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The vocabulary at `path` (default: the packaged one), read once per process."""
    path = path or default_vocabulary_path()
    return parse_vocabulary(path.read_text(encoding="utf-8"), source=str(path))


def parse_vocabulary(text: str, source: str = "vocabulary") -> Vocabulary:
    """Parse and check vocabulary YAML; raise VocabularyError naming every problem's line."""
    try:
        tree = load_tree(text)
    except YAMLError as exc:
        raise VocabularyError([syntax_error(exc)], source) from None
    try:
        return Vocabulary.model_validate(plain(tree))
    except ValidationError as exc:
        problems = [_problem(error, tree, text) for error in exc.errors()]
        raise VocabularyError(problems, source) from None


def _problem(error: Any, tree: Any, text: str) -> tuple[int, str]:
    """A pydantic error as (line, message)."""
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # a refused mapping key
        loc = loc[:-1]
        return line_of(tree, loc, at=KEY), f"{'.'.join(map(str, loc))}: {error['msg']}"
    if error["type"] == "extra_forbidden":
        return line_of(tree, loc, at=KEY), f"{'.'.join(map(str, loc))}: unknown key"
    line = line_of(tree, loc)
    word = error["input"]
    if isinstance(word, str) and loc and isinstance(loc[-1], int):
        # A word of a comma-separated list that runs over several lines: find its own line.
        lines = text.splitlines()
        line = next((n for n in range(line, len(lines) + 1) if word in lines[n - 1]), line)
    return line, f"{'.'.join(map(str, loc))}: {error['msg']}"
