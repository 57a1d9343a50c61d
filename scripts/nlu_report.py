"""Held-out NLU figures per dialect, from a real Rasa server parsing each test example.

    .venv/bin/python scripts/nlu_report.py [--model var/models/tasdeed.tar.gz]

Starts `rasa run --enable-api` (auth token, 127.0.0.1) on the trained model, sends every
example of nlu_data/test/*.yml through /model/parse after the core's normaliser (as the
gateway does), and prints intent accuracy, macro F1 and entity F1 per dialect file, plus
/model/parse latency p50/p99. Writes var/reports/nlu_by_dialect.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasdeed.nlu_text import ANNOTATION, normalise_example, strip_annotations  # noqa: E402

PORT = 15005
OUT_OF_DOMAIN = "out_of_domain"
# Rejected: the classifier says out of scope, or is not sure enough (the fallback).
REJECTED = frozenset({"out_of_scope", "nlu_fallback"})
WALK_INTENTS = frozenset({"pay_bill", "check_balance", "file_complaint", "report_outage",
                          "complaint_status", "installment_request", "incentive_inquiry",
                          "incentive_calculator", "compensation_inquiry",
                          "prepaid_inquiry"})  # fmt: skip


def out_of_domain_figures(predicted: list[str]) -> dict[str, float]:
    """How the model treats messages about banking, telecoms and daily life. A message it
    does not reject gets a reply it did not need; none can pay (only the engine's reviewed
    yes-list can), which the chat end-to-end test checks at the confirmation."""
    total = len(predicted)
    rejected = sum(p in REJECTED for p in predicted) / total
    starts_walk = sum(p in WALK_INTENTS for p in predicted) / total
    affirm = sum(p == "affirm" for p in predicted) / total
    print(f"  {'':15s} rejected as out of scope {rejected:.1%}, would start a walk "
          f"{starts_walk:.1%}, classified affirm {affirm:.1%}")  # fmt: skip
    return {"rejected": rejected, "starts_walk": starts_walk, "affirm": affirm}


def examples(path: Path) -> list[tuple[str, str, set[tuple[str, str]]]]:
    found = []
    for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "intent" not in item:
            continue
        for line in str(item["examples"]).splitlines():
            line = line.strip().removeprefix("- ").strip()
            if line:
                text = normalise_example(line)
                entities = {(m.group(2).strip("()"), m.group(1)) for m in ANNOTATION.finditer(text)}
                found.append((strip_annotations(text), item["intent"], entities))
    return found


def parse(text: str, token: str) -> tuple[dict[str, object], float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/model/parse?token={token}",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    return body, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "var" / "models" / "tasdeed.tar.gz"))
    args = parser.parse_args()
    token = secrets.token_hex(16)
    rasa = subprocess.Popen(
        [str(ROOT / ".venv-rasa" / "bin" / "rasa"), "run", "--enable-api", "--auth-token",
         token, "--model", args.model, "--interface", "127.0.0.1", "--port", str(PORT)],
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        report: dict[str, dict[str, float]] = {}
        latencies: list[float] = []
        print("held-out NLU by dialect (intent accuracy, intent macro F1, entity F1):")
        for path in sorted((ROOT / "nlu_data" / "test").glob("*.yml")):
            gold, predicted = [], []
            true_entities = found_entities = matched = 0
            for text, intent, entities in examples(path):
                body, ms = parse(text, token)
                latencies.append(ms)
                gold.append(intent)
                predicted.append(str((body.get("intent") or {}).get("name")))  # type: ignore[union-attr]
                got = {(str(e["entity"]), str(e["value"])) for e in body.get("entities", [])}  # type: ignore[union-attr]
                true_entities += len(entities)
                found_entities += len(got)
                matched += len(entities & got)
            accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
            macro = float(f1_score(gold, predicted, average="macro", zero_division=0))
            precision = matched / found_entities if found_entities else 1.0
            recall = matched / true_entities if true_entities else 1.0
            entity_f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            report[path.stem] = {"examples": len(gold), "intent_accuracy": accuracy,
                                 "intent_macro_f1": macro, "entity_f1": entity_f1}  # fmt: skip
            print(f"  {path.stem:15s} n={len(gold):3d}  accuracy {accuracy:.3f}  "
                  f"macro F1 {macro:.3f}  entity F1 {entity_f1:.3f}")  # fmt: skip
            if path.stem == OUT_OF_DOMAIN:
                report[path.stem] |= out_of_domain_figures(predicted)
        ordered = sorted(latencies)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        median = statistics.median(ordered)
        print(f"  /model/parse p50 {median:.1f} ms  p99 {p99:.1f} ms, {len(ordered)} parses")
        out = ROOT / "var" / "reports"
        out.mkdir(parents=True, exist_ok=True)
        (out / "nlu_by_dialect.json").write_text(json.dumps(report, indent=2))
    finally:
        rasa.terminate()
        rasa.wait(timeout=30)


if __name__ == "__main__":
    main()
