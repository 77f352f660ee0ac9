"""The design documents in docs/ are what the code points at: every `docs/<file>.md#<anchor>`
reference in the repository (and every link between the docs) names a file and heading that
exist, no pointer to a document outside the repository is left, and docs/config.md matches
the schemas it is generated from."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SCANNED = ["src", "workflow", "Snakefile", "config.yaml", "configs", "bench", "tests", "tools",
           "README.md", "docs", "pyproject.toml", "environment.yml"]
SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".md", ".rst", ".toml", ".txt", ".sh", ""}
# A reference from code: docs/study.md#los-bins. Between docs: [text](study.md#los-bins) or (#los-bins).
CODE_REF = re.compile(r"docs/([A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_-]+)")
DOC_LINK = re.compile(r"\]\(([A-Za-z0-9_.-]+\.md)?#([A-Za-z0-9_-]+)\)")
# Pointers to the design notes the docs replaced (built up so this file does not match itself).
OUTSIDE = [re.compile(p) for p in ("DESIGN" + r"\s*§", "DESIGN" + r"\.md", "HELP" + r"ERS\b",
                                    r"\bissue" + r" #?\d+", "helper" + " notes")]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Anchors of every heading outside code fences; repeated headings get -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out, fenced = set(), False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def scanned_files():
    for name in SCANNED:
        path = REPO / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if f.suffix in SUFFIXES and "__pycache__" not in f.parts:
                yield f


def references() -> list[tuple[str, str, str]]:
    """(where, doc file, anchor) for every docs reference in the scanned files."""
    refs = []
    for f in scanned_files():
        text = f.read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            where = f"{f.relative_to(REPO)}:{lineno}"
            refs += [(where, doc, anchor) for doc, anchor in CODE_REF.findall(line)]
            if f.parent == DOCS:
                refs += [(where, doc or f.name, anchor) for doc, anchor in DOC_LINK.findall(line)]
    return refs


def test_slugs_follow_github():
    assert slug("LOS bins") == "los-bins"
    assert slug("`synth`") == "synth"
    assert slug("run.json") == "runjson"
    assert slug("One note, export to figure") == "one-note-export-to-figure"
    assert slug("Charlson comorbidity index") == "charlson-comorbidity-index"


def test_repeated_headings_get_numbered_anchors(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("# A\n## Notes\n```\n# not a heading\n```\n## Notes\n")
    assert anchors(doc) == {"a", "notes", "notes-1"}


def test_the_code_points_into_docs():
    refs = references()
    # The library, the workflow and the config all point at the docs, not only the docs themselves.
    assert {"src", "workflow", "config.yaml"} <= {w.split("/")[0].split(":")[0] for w, _, _ in refs}


def test_every_docs_reference_names_an_existing_file_and_heading():
    refs = references()
    assert refs
    broken = []
    for where, doc, anchor in refs:
        path = DOCS / doc
        if not path.is_file():
            broken.append(f"{where}: docs/{doc} does not exist")
        elif anchor not in anchors(path):
            broken.append(f"{where}: docs/{doc} has no heading for #{anchor}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("pattern", OUTSIDE, ids=lambda p: p.pattern)
def test_no_pointer_to_an_outside_design_document_remains(pattern):
    hits = [f"{f.relative_to(REPO)}:{n}" for f in scanned_files()
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1) if pattern.search(line)]
    assert not hits, f"{pattern.pattern} in " + ", ".join(hits)


def test_config_reference_is_up_to_date():
    run = subprocess.run([sys.executable, str(REPO / "tools" / "config_docs.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_config_reference_lists_every_schema_key():
    """Each section's keys appear as rows, so a key added to a schema shows up once regenerated."""
    import yaml

    text = (DOCS / "config.md").read_text()
    for schema in sorted((REPO / "workflow" / "schemas").glob("*.schema.yaml")):
        if schema.name == "config.schema.yaml":
            continue
        section = schema.name.split(".")[0]
        for key in yaml.safe_load(schema.read_text()).get("properties", {}):
            assert f"| `{section}.{key}` |" in text, f"{schema.name}: {key} missing from docs/config.md"
