"""Shared fixtures and markers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:  # not keywords: they hold folder names
            item.add_marker(skip)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def local_run(tmp_path_factory):
    """One complete local run of the test config, shared by workflow and cluster tests."""
    from workflow_run import TEST_CONFIG, copy_workflow, snakemake

    workdir = copy_workflow(tmp_path_factory.mktemp("local"))
    run = snakemake(workdir, "--cores", "2", *TEST_CONFIG)
    assert run.returncode == 0, run.stderr[-6000:]
    return workdir


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op torch thread for tests of tiny models: small matrices gain nothing from
    more, and on a busy 2-core machine two threads contend badly."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    """A tiny SentencePiece tokenizer trained on made-up notes (finetune tests)."""
    from finetune_helpers import train_tokenizer

    from lang1core.finetune.tokens import Tokenizer

    return Tokenizer(train_tokenizer(tmp_path_factory.mktemp("spm")))
