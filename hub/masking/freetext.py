"""Free-text PII masking with Presidio, fully offline.

The analyzer is built once per process (:func:`default_masker`) from the blank
spaCy Chinese pipeline shipped in ``spacy_zh/`` (jieba segmenter, loaded by path,
no NER component) and our own recognizers only: Presidio's default
``AnalyzerEngine()`` would try to download ``en_core_web_lg``. The known names of
the profile (person, household, helpers) are added per request as an ad-hoc
recognizer. Any exception during analysis withholds the field (fail safe).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.recognizer_registry import RecognizerRegistry
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from spacy.language import Language
from spacy.tokens import Doc

from hub.masking.context import MaskingContext
from hub.masking.recognizers import ENTITY_TYPES, LANGUAGE, KnownNamesRecognizer, standard_recognizers
from hub.masking.result import MaskResult, Value
from hub.masking.script import fold

logger = logging.getLogger(__name__)

PIPELINE_DIR = Path(__file__).resolve().parent / "spacy_zh"
#: Results scoring below this are dropped; unverified IDs (0.5) still pass.
SCORE_THRESHOLD = 0.45
OPERATOR_NAME = "pii_free_text"


@dataclass(frozen=True, slots=True)
class Entity:
    """One PII span in the original text: [start, end) in characters."""

    type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class MaskedText:
    """The entities found and the text with each replaced by ``<TYPE>``."""

    entities: tuple[Entity, ...]
    masked: str


def _resolve_overlaps(results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the best of overlapping spans: highest score, then the longest, then the earliest.

    The entity type breaks remaining ties so the outcome never depends on set order.
    """
    chosen: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start, r.entity_type)):
        if all(r.end <= c.start or r.start >= c.end for c in chosen):
            chosen.append(r)
    return sorted(chosen, key=lambda r: r.start)


class _LazyArtifacts(NlpArtifacts):
    """NlpArtifacts whose spaCy ``Doc`` is made only if a recognizer asks for ``tokens``."""

    def __init__(self, nlp: Language, text: str, language: str) -> None:
        self._nlp, self._text, self._doc = nlp, text, None
        super().__init__(
            entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None, language=language
        )

    @property
    def tokens(self) -> Doc:  # type: ignore[override]
        if self._doc is None:
            self._doc = self._nlp(self._text)
        return self._doc

    @tokens.setter
    def tokens(self, value: Doc | None) -> None:
        if value is not None:
            self._doc = value


class _LazySpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loaded by path, that segments the text only on demand.

    The blank pipeline has no NER and no lemmatizer, and none of our recognizers needs
    the whole note's tokens (the address recognizer segments small windows itself), so
    Presidio's eager pass (jieba over the whole note, then per-token lemma, stop-word
    and keyword bookkeeping) was pure cost: measured at about 60% of the analysis time
    of a 500-character note (bench/pii_quality.py).
    """

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        if not self.nlp:
            raise ValueError("NLP engine is not loaded")
        return _LazyArtifacts(self.nlp[language], text, language)

    def segment(self, text: str) -> list[str]:
        """jieba words of ``text`` via the pipeline's own tokenizer."""
        return [t.text for t in self.nlp[LANGUAGE].tokenizer(text)]


class _NoContextEnhancer(ContextAwareEnhancer):
    """No context-word boosting: our scores come from checksums and boundary words.

    Presidio's default ``LemmaContextAwareEnhancer`` deep-copies every result even when
    no recognizer declares context words (about 1.5 ms per note).
    """

    def __init__(self) -> None:
        super().__init__(
            context_similarity_factor=0.0,
            min_score_with_context_similarity=0.0,
            context_prefix_count=0,
            context_suffix_count=0,
        )

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):  # type: ignore[no-untyped-def]
        return raw_results


@lru_cache(maxsize=256)
def _known_names_recognizer(names: tuple[str, ...]) -> KnownNamesRecognizer:
    return KnownNamesRecognizer(names)


class FreeTextMasker:
    """A Presidio analyzer + anonymizer for Chinese notes; build once, call many times (thread-safe)."""

    def __init__(
        self,
        pipeline_dir: Path = PIPELINE_DIR,
        recognizers: Sequence[EntityRecognizer] | None = None,
        score_threshold: float = SCORE_THRESHOLD,
    ) -> None:
        if not (pipeline_dir / "config.cfg").is_file():
            raise FileNotFoundError(
                f"spaCy pipeline not found at {pipeline_dir} (run python -m hub.masking.build_spacy_zh)"
            )
        import jieba

        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" chatter is not ours to print
        nlp_engine = _LazySpacyEngine(
            models=[{"lang_code": LANGUAGE, "model_name": str(pipeline_dir)}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=["*"]),
        )
        nlp_engine.load()
        registry = RecognizerRegistry(supported_languages=[LANGUAGE])
        for recognizer in (
            recognizers if recognizers is not None else standard_recognizers(nlp_engine.segment)
        ):
            registry.add_recognizer(recognizer)
        for recognizer in registry.recognizers:
            recognizer.load()
        fold("")  # build the folding table now, not on the first request
        nlp_engine.segment("预热分词词典")  # jieba loads its dictionary lazily
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp_engine,
            supported_languages=[LANGUAGE],
            context_aware_enhancer=_NoContextEnhancer(),
        )
        self._anonymizer = AnonymizerEngine()
        self._operators = {t: OperatorConfig("replace", {"new_value": f"<{t}>"}) for t in ENTITY_TYPES}
        self._threshold = score_threshold

    def analyze(self, text: str, known_names: Sequence[str] = ()) -> list[Entity]:
        """PII spans of ``text`` (non-overlapping, in order). Raises on analysis failure."""
        folded = fold(text)
        ad_hoc = [_known_names_recognizer(tuple(sorted(set(known_names))))] if known_names else None
        results = self._analyzer.analyze(
            folded,
            language=LANGUAGE,
            entities=list(ENTITY_TYPES),
            ad_hoc_recognizers=ad_hoc,
            score_threshold=self._threshold,
        )
        return [Entity(r.entity_type, r.start, r.end, r.score) for r in _resolve_overlaps(results)]

    def mask(self, text: str, known_names: Sequence[str] = ()) -> MaskedText:
        """Entities and the masked text. Raises on analysis failure (callers withhold)."""
        entities = self.analyze(text, known_names)
        if not entities:
            return MaskedText((), text)
        anonymized = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[RecognizerResult(e.type, e.start, e.end, e.score) for e in entities],
            operators=self._operators,
        )
        return MaskedText(tuple(entities), anonymized.text)


_default: FreeTextMasker | None = None
_default_lock = threading.Lock()


def default_masker() -> FreeTextMasker:
    """The process-wide masker, built on first use (about a second) and reused."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = FreeTextMasker()
    return _default


def mask_free_text(
    value: Value, *, context: MaskingContext, masker: FreeTextMasker | None = None
) -> MaskResult:
    """Mask a free-text value; any failure withholds it (never passes it through)."""
    if value is None:
        return MaskResult(value=None, operator=OPERATOR_NAME)
    if not isinstance(value, str):
        return MaskResult.withhold(
            OPERATOR_NAME, f"{OPERATOR_NAME}: expects text, got {type(value).__name__}"
        )
    try:
        masked = (masker or default_masker()).mask(value, context.known_names)
    except Exception as exc:  # noqa: BLE001 - fail safe: whatever broke, the text is not shown
        logger.warning("free-text analysis failed (%s); field withheld", type(exc).__name__)
        return MaskResult.withhold(OPERATOR_NAME, f"free-text analysis failed: {type(exc).__name__}")
    return MaskResult(value=masked.masked, operator=OPERATOR_NAME)
