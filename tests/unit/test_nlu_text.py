"""Training and parsing see the very same text: every example of the NLU data, normalised
around its annotations for training, equals the live message normalised by the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasdeed.nlu_text import ANNOTATION, normalise_example, strip_annotations
from tasdeed.normalise import normalise_input

NLU = Path(__file__).resolve().parents[2] / "nlu_data"


def all_examples() -> list[str]:
    found = []
    for path in sorted(NLU.rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in item:
                lines = str(item["examples"]).splitlines()
                found += [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    return found


EXAMPLES = all_examples()


def test_there_is_data() -> None:
    assert len(EXAMPLES) > 15 * 40


@pytest.mark.parametrize("example", EXAMPLES)
def test_training_text_equals_live_text(example: str) -> None:
    trained = normalise_example(example)
    assert strip_annotations(trained) == normalise_input(strip_annotations(example)).text
    # The annotations survive, with their entity types.
    assert [m.group(2) for m in ANNOTATION.finditer(trained)] == [
        m.group(2) for m in ANNOTATION.finditer(example)
    ]


@pytest.mark.parametrize(
    ("example", "normalised"),
    [
        ("عايز أدفع [٦٢٧٨٩٨٦٢٢٢٤١](payment_code)", "عايز ادفع [627898622241](payment_code)"),
        ("المبلغ [١٥٠٫٧٥](amount) جنيه", "المبلغ [150.75](amount) جنيه"),
        ("فاتورتـــي  كام؟", "فاتورتي كام؟".replace("ة", "ه")),
    ],
)
def test_normalise_example(example: str, normalised: str) -> None:
    assert normalise_example(example) == normalised
