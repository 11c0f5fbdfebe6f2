"""Fuzz clvxl for a while and write every failing case, grouped by failure class.

Usage (from the repository, in its virtual environment)::

    python tests/fuzz/run.py --minutes 10 --seed 1 --out fuzz-out
    python tests/fuzz/run.py --minutes 2 --generators text,freeze --out fuzz-out
    python tests/fuzz/run.py --replay text:1000037 --out fuzz-out   # one case again
    python tests/fuzz/run.py --replay text:1000037:0,2 --out fuzz-out  # mutations 0 and 2 only
    python tests/fuzz/run.py --known D07 --out fuzz-out       # a known defect's reproducer

Cases are drawn from ``--seed`` until the time is up, each run in a worker process that
imports clvxl once and calls ``clvxl.cli.main`` in-process, under a resident-memory
limit (``--memory-mib``, default 2048), an address-space limit and a time limit
(``--timeout``, default 60 s); ``--mode subprocess`` starts a fresh ``python -m
clvxl.cli`` per case instead. A crash, a kill or an escaped exception is a failure of
that case; the fuzzer goes on.

The first case of each new failure is shrunk to as few of its mutations as still show
it, and the class is named after that smallest case. ``OUT`` then holds:

* ``summary.md`` / ``summary.json``: the run count and every failure class (kind,
  signature, the mutations that cause it, how many cases showed it, the known defect it
  matches from ``known.py`` or NEW);
* ``classes/NN-<class>/example-K/``: up to ``--examples`` failing cases per class, each
  with ``case/`` (the input files and output folder as they were before the run),
  ``command.txt`` (the command to run there, and how to rebuild the case),
  ``failure.json`` (exit code, what broke), ``stdout.txt`` and ``stderr.txt``.

The run count and the failure classes are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzzlib
import known


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+=-]+", "_", text)[:80].strip("_")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the case sequence (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the failing cases and the summary")
    parser.add_argument("--mode", choices=["worker", "subprocess"], default="worker")
    parser.add_argument("--generators", help="comma-separated subset of: " + ", ".join(fuzzlib.GENERATORS))
    parser.add_argument("--memory-mib", type=int, default=2048, help="resident memory per case (default 2048)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    parser.add_argument("--examples", type=int, default=3, help="failing cases kept per class (default 3)")
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink new failures")
    parser.add_argument("--replay", metavar="GEN:SEED[:I,J]", help="run one case and save it")
    parser.add_argument("--known", metavar="ID", help="run the reproducer of a known defect (known.py) and save it; 'all' for every one")
    return parser.parse_args(argv)


class Classes:
    """Failure classes seen so far, keyed by the shrunk case's failure key."""

    def __init__(self, out: Path, examples: int) -> None:
        self.out = out
        self.examples = examples
        self.entries: dict[str, dict] = {}
        self.alias: dict[str, str] = {}  # raw key -> class key

    def add(self, key: str, failure: fuzzlib.Failure, case: fuzzlib.Case, outcome: fuzzlib.Outcome | None, minimal: fuzzlib.Case) -> dict:
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {
                "key": key,
                "kind": failure.kind,
                "labels": list(failure.labels),
                "minimal_labels": list(minimal.labels),
                "minimal_case": f"{minimal.gen}:{minimal.seed}" + ("" if minimal.keep is None else ":" + ",".join(map(str, sorted(minimal.keep)))),
                "minimal_command": minimal.command_line(),
                "detail": failure.detail,
                "cases": 0,
                "known": known.match(failure),
                "folder": f"classes/{len(self.entries):02d}-{_slug(key)}",
                "saved": 0,
            }
        entry["cases"] += 1
        if entry["saved"] < self.examples:
            folder = self.out / entry["folder"] / f"example-{entry['saved']}"
            shutil.rmtree(folder, ignore_errors=True)
            fuzzlib.save_case(minimal if entry["saved"] == 0 else case, outcome if entry["saved"] else None, folder)
            if entry["saved"] == 0 and outcome is not None:  # what the shrunk case did is in `detail`
                (folder / "found-in.json").write_text(json.dumps({"case": case.name, "labels": case.labels, "failure": failure.to_json()}, indent=2))
            entry["saved"] += 1
        return entry


def write_summary(out: Path, classes: Classes, runs: int, seconds: float, args: argparse.Namespace, errors: list[str]) -> None:
    entries = sorted(classes.entries.values(), key=lambda e: (e["known"] or "~", e["kind"], e["key"]))
    data = {"runs": runs, "seconds": round(seconds, 1), "seed": args.seed, "mode": args.mode, "classes": entries, "generator_errors": errors[:50]}
    (out / "summary.json").write_text(json.dumps(data, indent=2, default=str))
    lines = [
        "# clvxl fuzz run",
        "",
        f"{runs:,} cases in {seconds / 60:.1f} minutes (seed {args.seed}, mode {args.mode}); "
        f"{len(entries)} failure classes; {len(errors)} generator errors.",
        "",
        "| known | kind | class | cases | smallest case | example |",
        "|---|---|---|---:|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['known'] or 'NEW'} | {e['kind']} | `{e['key'][:90]}` | {e['cases']} | "
            f"`{e['minimal_case']}` {', '.join(e['minimal_labels'])} | {e['folder']} |"
        )
    lines += ["", "Details: summary.json; each example folder has command.txt and failure.json."]
    (out / "summary.md").write_text("\n".join(lines) + "\n")


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)  # stop as for Ctrl-C: summary written, worker ended
    signal.signal(signal.SIGINT, _stop)  # also when started in the background (SIGINT ignored)
    args.out.mkdir(parents=True, exist_ok=True)
    limits = fuzzlib.Limits(memory=args.memory_mib * fuzzlib.MiB, seconds=args.timeout)
    classes = Classes(args.out, args.examples)
    errors: list[str] = []
    start = time.monotonic()
    deadline = start + args.minutes * 60
    weights = None
    if args.generators:
        weights = {g: fuzzlib.GENERATORS[g][1] for g in args.generators.split(",")}
    runner = fuzzlib.Runner(args.mode, limits, workdir=args.out / "work", cache=args.out / "cache")
    runs = 0
    try:
        if args.replay:
            gen, seed, *rest = args.replay.split(":")
            keep = frozenset(int(i) for i in rest[0].split(",")) if rest else None
            case = fuzzlib.make_case(gen, int(seed), keep, runner.cache)
            outcome = runner.run(case)
            fuzzlib.save_case(case, outcome, args.out / "replay" / case.name)
            for f in outcome.failures:
                print(f"{f.key}\n    {f.detail[:300]}")
            print(f"exit {outcome.result.code}; saved in {args.out / 'replay' / case.name}")
            return 0
        if args.known:
            for defect in known.KNOWN:
                if args.known not in ("all", defect.id):
                    continue
                case = defect.reproduce()
                outcome = runner.run(case)
                fuzzlib.save_case(case, outcome, args.out / "known" / defect.id, f"--known {defect.id}")
                print(f"{defect.id}: exit {outcome.result.code}, {len(outcome.failures)} broken promise(s): {defect.title}")
                for f in outcome.failures[:3]:
                    print(f"    {f.key[:100]}\n        {f.detail[:200]}")
            print(f"saved in {args.out / 'known'}")
            return 0
        rng_seeds = fuzzlib.seed_stream(args.seed, weights)
        last_print = start
        while time.monotonic() < deadline:
            gen, seed = next(rng_seeds)
            try:
                case = fuzzlib.make_case(gen, seed, None, runner.cache)
            except Exception:  # a bug of the fuzzer's own: say so, go on
                errors.append(f"{gen}:{seed}: {traceback.format_exc(limit=3)}")
                continue
            outcome = runner.run(case)
            runs += 1
            seen: set[str] = set()
            for failure in outcome.failures:
                raw = fuzzlib.raw_key(failure, case)
                if raw in seen:
                    continue
                seen.add(raw)
                key = classes.alias.get(raw)
                minimal, shown = case, failure
                if key is None:
                    if not args.no_shrink and time.monotonic() < deadline:
                        minimal, shown = fuzzlib.shrink(runner, case, failure)
                    key = fuzzlib.class_key(shown, minimal)
                    classes.alias[raw] = key
                    if key not in classes.entries:
                        print(f"[{(time.monotonic() - start) / 60:5.1f} min] new: {key}  ({', '.join(minimal.labels)})", flush=True)
                classes.add(key, shown, case, outcome, minimal)
            if time.monotonic() - last_print > 60:
                last_print = time.monotonic()
                print(f"[{(last_print - start) / 60:5.1f} min] {runs:,} cases, {len(classes.entries)} classes", flush=True)
    except KeyboardInterrupt:
        print("interrupted; writing the summary")
    finally:
        runner.close()
        shutil.rmtree(args.out / "work", ignore_errors=True)
    seconds = time.monotonic() - start
    write_summary(args.out, classes, runs, seconds, args, errors)
    print(f"\n{runs:,} cases in {seconds / 60:.1f} min; {len(classes.entries)} failure classes "
          f"({sum(1 for e in classes.entries.values() if not e['known'])} not in known.py); "
          f"{len(errors)} generator errors")
    for e in sorted(classes.entries.values(), key=lambda e: -e["cases"]):
        print(f"  {e['cases']:5d}  {e['known'] or 'NEW':>5}  {e['key'][:100]}")
    print(f"summary: {args.out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
