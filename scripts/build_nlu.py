"""Write the normalised copy of the NLU data that Rasa trains and tests on.

    .venv/bin/python scripts/build_nlu.py            # nlu_data/ → var/nlu/

Examples go through tasdeed.nlu_text.normalise_example (the gateway's normaliser, applied
around entity annotations); regexes and everything else are copied unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasdeed.nlu_text import normalise_example  # noqa: E402


def _examples_block(examples: str) -> str:
    lines = [line[2:] if line.startswith("- ") else line for line in examples.splitlines()]
    return "".join(f"- {normalise_example(line)}\n" for line in lines if line.strip())


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


def build(source: Path, target: Path) -> int:
    yaml.SafeDumper.add_representer(_Literal, _literal)
    count = 0
    for path in sorted(source.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []):
            if "examples" in item and ("intent" in item or "synonym" in item):
                item["examples"] = _Literal(_examples_block(item["examples"]))
                count += item["examples"].count("\n")
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000),
            encoding="utf-8",
        )
    return count


if __name__ == "__main__":
    examples = build(ROOT / "nlu_data", ROOT / "var" / "nlu")
    print(f"build_nlu: {examples} normalised examples in var/nlu/")
