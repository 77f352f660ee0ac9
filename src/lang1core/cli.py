"""The `lang1` command: the pieces users run outside Snakemake.

Each subcommand lives beside the code it drives, in a module that defines
`HELP` (one line), `add_arguments(parser)` and `run(args) -> int`. Modules are imported
only when their subcommand runs, so `lang1 --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module implementing it
COMMANDS: dict[str, str] = {
    "synth": "lang1core.synth.cli",
    "validate-export": "lang1core.export.command",
    "corpus-stats": "lang1core.corpus.command",
    "remede": "lang1core.remede.command",
    "pretrain": "lang1core.train.cli",
    "export-hf": "lang1core.model.export_hf",
    "import-hf": "lang1core.model.import_hf",
    "evaluate": "lang1core.evaluate.cli",
    "claims": "lang1core.evaluate.claims_cli",
    "figures": "lang1core.figures.cli",
    "score": "lang1core.finetune.cli",
    "serve": "lang1core.finetune.serve_cli",
    "audit": "lang1core.audit.command",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lang1",
        description="Build and evaluate a hospital-operations language model on an EHR export.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(
            name, help=module.HELP, description=module.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
