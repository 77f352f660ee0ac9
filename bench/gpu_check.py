"""GPU readiness check: the whole GPU path in one command, one table and one verdict.

    python bench/gpu_check.py --out $OUT/gpu_check.json      # everything, <= 8 minutes
    python bench/gpu_check.py --only kernels,fsdp --quick     # a smoke test at small shapes
    python bench/gpu_check.py --list                          # sections and time budgets

Sections (bench/gpu_sections.py): Triton kernels against their references in bf16 and fp16;
attention TFLOP/s against SDPA's backends; fused linear-CE memory and time against eager and
torch.compile; trainer tokens/s and MFU; FSDP2 over NCCL on one GPU with an exact resume;
scoring examples/s. Each section runs in its own process under its time budget (a hang or a
crash costs that section only; its rows so far are kept), and its log goes beside --out.

Exit status: 0 when every judged row passes, 1 when any fails (a section over its budget or
crashed fails too), 2 when no CUDA device is present (nothing is run, so a scripted run on
the wrong machine is never taken for a pass). Under --quick the performance goals are shown
but not judged (they are set for the full shapes); correctness is judged at every size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from gpu_sections import FAIL, INFO, PASS, SECTIONS, Context, Row, Section

TOTAL_BUDGET_S = 480  # the whole check fits a short lease of one GPU


def registry() -> dict[str, Section]:
    return SECTIONS


def parse_args(argv: list[str], sections: dict[str, Section]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", default=[], metavar="SECTION",
                   help=f"run only these sections (repeat or comma-separate): {', '.join(sections)}")
    p.add_argument("--quick", action="store_true", help="small shapes: a smoke test of the script itself")
    p.add_argument("--out", type=Path, default=None, help="also write the rows and verdict as JSON here")
    p.add_argument("--list", action="store_true", help="list the sections and their budgets, run nothing")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: run one section
    p.add_argument("--rows", type=Path, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    names = [n.strip() for item in a.only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in sections]
    if unknown:
        p.error(f"unknown section(s) {unknown}; expected some of {list(sections)}")
    a.sections = [n for n in sections if n in names] if names else list(sections)
    return a


def verdict(rows: list[Row]) -> tuple[bool, str]:
    """(all passed, one-line summary). INFO rows are not judged; no judged row is a failure
    too (a check that measured nothing proved nothing)."""
    judged = [r for r in rows if r.status != INFO]
    failed = [r for r in judged if r.status == FAIL]
    if not judged:
        return False, "FAIL: no row was judged"
    if failed:
        return False, f"FAIL: {len(failed)} of {len(judged)} judged rows failed"
    return True, f"PASS: all {len(judged)} judged rows passed"


def format_table(rows: list[Row]) -> str:
    head = ("section", "check", "setting", "measured", "goal", "result")
    cells = [head] + [(r.section, r.check, r.setting, r.measured, r.goal, r.status) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(ln)) for ln in path.read_text().splitlines() if ln.strip()]


def budget_rows(section: Section, elapsed: float, timed_out: bool, returncode: int | None,
                rows: list[Row], log_path: Path | None) -> list[Row]:
    """What the parent adds after a section: a failure for a timeout or a crash that left no
    error row, and the section's time against its budget."""
    out = []
    where = f" (log: {log_path.name})" if log_path else ""
    if timed_out:
        out.append(Row(section.name, "finished within budget", f"{section.budget_s} s", f"killed at {elapsed:.0f} s",
                       f"<= {section.budget_s} s", FAIL, elapsed))
    elif returncode and not any(r.check == "error" for r in rows):
        out.append(Row(section.name, "error", "", f"exit status {returncode}{where}", "exit 0", FAIL))
    else:
        out.append(Row(section.name, "section time", "", f"{elapsed:.0f} s", f"<= {section.budget_s} s",
                       PASS if elapsed <= section.budget_s else FAIL, elapsed))
    return out


def run_section(section: Section, quick: bool, log_dir: Path) -> list[Row]:
    """Run one section in a child process under its budget; its rows, plus budget_rows."""
    rows_path = log_dir / f"{section.name}.rows.jsonl"
    log_path = log_dir / f"{section.name}.log"
    rows_path.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", section.name, "--rows", str(rows_path)]
    cmd += ["--quick"] if quick else []
    t0 = time.perf_counter()
    timed_out, rc = False, None
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=section.budget_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, 9)  # the section's own process group: it and its children
            proc.wait()
    elapsed = time.perf_counter() - t0
    rows = read_rows(rows_path)
    return rows + budget_rows(section, elapsed, timed_out, rc, rows, log_path)


def worker(name: str, rows_path: Path, quick: bool) -> int:
    """Child side: run one section, appending each row to rows_path as it is measured."""
    import traceback

    from lang1core.logs import setup_logging

    setup_logging()  # INFO and up (the kernel self-check's verdicts, the trainer) into the section's log
    section = registry()[name]
    rows_path.parent.mkdir(parents=True, exist_ok=True)
    with open(rows_path, "a") as f:
        def emit(row: Row) -> None:
            f.write(json.dumps(asdict(row)) + "\n")
            f.flush()
            print(f"[{name}] {row.check} | {row.setting} | {row.measured} | {row.goal} | {row.status}", flush=True)

        try:
            section.run(Context.for_device(quick), emit)
        except Exception as err:  # the row says what broke; the log has the traceback
            traceback.print_exc()
            emit(Row(name, "error", "", f"{type(err).__name__}: {str(err).splitlines()[0][:160]}" if str(err)
                     else type(err).__name__, "no error", FAIL))
            return 1
    return 0


def environment() -> dict:
    import torch

    from lang1core.provenance import code_version

    env = {"code_version": code_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "device": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    try:
        import triton

        env["triton"] = triton.__version__
    except ImportError:
        env["triton"] = None
    return env


def main(argv: list[str]) -> int:
    sections = registry()
    a = parse_args(argv, sections)
    if a.list:
        for s in sections.values():
            print(f"{s.name:16s} {s.budget_s:4d} s  {s.title}")
        print(f"{'total':16s} {sum(s.budget_s for s in sections.values()):4d} s  (goal <= {TOTAL_BUDGET_S} s)")
        return 0
    if a.worker:
        return worker(a.worker, a.rows, a.quick)
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing was run (exit 2)", file=sys.stderr)
        return 2
    env = environment()
    print(f"gpu_check on {env['device']} (torch {env['torch']}, CUDA {env['cuda']}, triton {env['triton']})"
          f"{' --quick' if a.quick else ''}", file=sys.stderr)
    log_dir = (a.out.parent / f"{a.out.stem}_logs") if a.out else Path(tempfile.mkdtemp(prefix="gpu_check_"))
    log_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    t0 = time.perf_counter()
    for i, name in enumerate(a.sections, 1):
        s = sections[name]
        print(f"[{i}/{len(a.sections)}] {name}: {s.title} (budget {s.budget_s} s) ...", file=sys.stderr, flush=True)
        got = run_section(s, a.quick, log_dir)
        rows += got
        bad = sum(r.status == FAIL for r in got)
        print(f"    {got[-1].measured}, {bad} failed", file=sys.stderr, flush=True)
    total = time.perf_counter() - t0
    if len(a.sections) == len(sections):
        rows.append(Row("all", "total time", "", f"{total:.0f} s", f"<= {TOTAL_BUDGET_S} s",
                        PASS if total <= TOTAL_BUDGET_S else FAIL, total))
    ok, summary = verdict(rows)
    print(format_table(rows))
    print(summary)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"environment": env, "quick": a.quick, "sections": a.sections,
                                     "passed": ok, "summary": summary, "total_s": total,
                                     "rows": [asdict(r) for r in rows]}, indent=1) + "\n")
        print(f"rows written to {a.out}; section logs in {log_dir}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
