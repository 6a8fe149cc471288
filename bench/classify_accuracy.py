"""Accuracy and speed of the incident-type classifier on the labelled set."""
# Usage: .venv/bin/python bench/classify_accuracy.py [--split dev|test|all] [--csv PATH]
# Prints accuracy per split, per-type precision/recall and the mistakes of the chosen split
# (look at dev mistakes only while tuning), and the mean classify time per description.
from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import Counter
from pathlib import Path

from siaga112.classify.engine import Classifier
from siaga112.sop.loader import default_sop_path, load_sop
from siaga112.sop.schemas import IncidentType

ROOT = Path(__file__).resolve().parents[1]
CSV_PATH = ROOT / "tests/data/classify_labelled.csv"


def load_types() -> list[IncidentType]:
    """Incident types from the shipped SOP file."""
    return list(load_sop(default_sop_path()).incident_types.values())


def load_rows(path: Path = CSV_PATH) -> list[dict[str, str]]:
    """Labelled rows: description, type_code, split."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main() -> None:
    """Run the report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", choices=("dev", "test", "all"), default="all",
                    help="which rows the per-type table and the mistake list cover")
    ap.add_argument("--csv", type=Path, default=CSV_PATH)
    args = ap.parse_args()

    t0 = time.perf_counter()
    clf = Classifier(load_types())
    build_ms = (time.perf_counter() - t0) * 1000
    rows = load_rows(args.csv)

    # Cold pass: the first sight of each word includes stemming and fuzzy look-ups.
    t0 = time.perf_counter()
    preds = [clf.classify(r["description"]) for r in rows]
    cold_us = (time.perf_counter() - t0) / len(rows) * 1e6

    print(f"rows: {len(rows)}   construction: {build_ms:.1f} ms")
    for split in ("dev", "test", "all"):
        pairs = [(r, p) for r, p in zip(rows, preds, strict=True) if split == "all" or r["split"] == split]
        ok = sum(r["type_code"] == p.type_code for r, p in pairs)
        print(f"accuracy {split:>4}: {ok}/{len(pairs)} = {ok / len(pairs):.1%}")

    chosen = [
        (r, p) for r, p in zip(rows, preds, strict=True) if args.split == "all" or r["split"] == args.split
    ]
    gold = Counter(r["type_code"] for r, _ in chosen)
    guessed = Counter(p.type_code for _, p in chosen)
    hits = Counter(r["type_code"] for r, p in chosen if r["type_code"] == p.type_code)
    print(f"\nper type ({args.split}):  {'n':>3} {'precision':>9} {'recall':>7}")
    for code in sorted(set(gold) | set(guessed)):
        prec = hits[code] / guessed[code] if guessed[code] else float("nan")
        rec = hits[code] / gold[code] if gold[code] else float("nan")
        print(f"  {code:<16} {gold[code]:>3} {prec:>9.2f} {rec:>7.2f}")

    mistakes = [(r, p) for r, p in chosen if r["type_code"] != p.type_code]
    print(f"\nmistakes ({args.split}): {len(mistakes)}")
    for r, p in mistakes:
        alts = ",".join(p.alternatives)
        print(f"  [{r['split']}] {r['type_code']} -> {p.type_code} ({p.confidence:.2f}; {alts})"
              f"  {r['description']}")

    descriptions = [r["description"] for r in rows]
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for d in descriptions:
            clf.classify(d)
        runs.append((time.perf_counter() - t0) / len(descriptions) * 1e6)
    print(f"\nmean classify time: {statistics.median(runs):.0f} µs/description warm, "
          f"{cold_us:.0f} µs cold (first pass)")


if __name__ == "__main__":
    main()
