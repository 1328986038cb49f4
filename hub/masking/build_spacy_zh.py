"""Build the blank spaCy Chinese pipeline shipped in ``hub/masking/spacy_zh/``.

Run once (the output is committed): ``python -m hub.masking.build_spacy_zh``.
The pipeline is ``spacy.blank("zh")`` with the jieba segmenter and no trained
components, so loading it needs no download and no network; Presidio loads it by
path (``SpacyNlpEngine`` skips its download step when the model name is an
existing path).
"""

from __future__ import annotations

import sys
from pathlib import Path

PIPELINE_DIR = Path(__file__).resolve().parent / "spacy_zh"


def build(target: Path = PIPELINE_DIR) -> Path:
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.meta["name"] = "pingan_zh_blank"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank Chinese pipeline, jieba segmenter, for offline Presidio analysis"
    nlp.meta["spacy_version"] = ">=3.7.0,<4.0.0"  # as pyproject.toml: no trained weights to go stale
    nlp.to_disk(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else PIPELINE_DIR))
