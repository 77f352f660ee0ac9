"""Checkpoints: round trip, atomic writes, keep-last-K."""

from __future__ import annotations

import json

import pytest
import torch

from train_helpers import TinyLM

from lang1core.train import checkpoint as ckpt


def _stepped(seed=0):
    torch.manual_seed(seed)
    model = TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x = torch.randint(0, 64, (2, 8))
    model.loss(x, x).backward()
    opt.step()
    opt.zero_grad()
    return model, opt


def _save(directory, step, model, opt, keep_last=2):
    return ckpt.save_checkpoint(directory, step=step, tokens=step * 100, model=model,
                                optimizer=opt, trainer_state={"step": step},
                                rank_state={"loader": {"pos": step}}, meta={"label": "t"},
                                keep_last=keep_last)


def test_round_trip_restores_model_optimizer_loader_and_rng(tmp_path):
    model, opt = _stepped(0)
    torch.manual_seed(123)
    path = _save(tmp_path, 5, model, opt)
    expected_rand = torch.rand(3)
    other, other_opt = _stepped(1)
    torch.manual_seed(999)
    state, rank_state, meta = ckpt.load_checkpoint(path, model=other, optimizer=other_opt)
    assert state == {"step": 5} and rank_state["loader"] == {"pos": 5}
    assert meta["step"] == 5 and meta["tokens"] == 500 and meta["world_size"] == 1
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    sa, sb = opt.state_dict()["state"], other_opt.state_dict()["state"]
    for k in sa:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(sa[k][name], sb[k][name])
    assert torch.equal(torch.rand(3), expected_rand)  # RNG continues where it was saved


def test_interrupted_write_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    model, opt = _stepped(0)
    _save(tmp_path, 1, model, opt)

    def crash(tmp, meta):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(ckpt, "_write_meta", crash)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, 2, model, opt)
    monkeypatch.undo()
    assert any(p.name.startswith(".tmp-step_") for p in tmp_path.iterdir())
    latest = ckpt.latest_checkpoint(tmp_path)
    assert latest.step == 1
    other, other_opt = _stepped(1)
    ckpt.load_checkpoint(latest.path, model=other, optimizer=other_opt)
    assert torch.equal(other.output.weight, model.output.weight)
    _save(tmp_path, 3, model, opt)  # the next save clears the debris
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())


def test_keeps_the_last_k_and_replaces_a_step_without_a_gap(tmp_path):
    model, opt = _stepped(0)
    for step in (0, 10, 20, 30):
        _save(tmp_path, step, model, opt, keep_last=2)
    assert [c.step for c in ckpt.list_checkpoints(tmp_path)] == [20, 30]
    # a crash between moving the old step_30 aside and moving the new one in
    (tmp_path / "step_00000030").rename(tmp_path / ".old-step_00000030")
    assert ckpt.latest_checkpoint(tmp_path).step == 30
    _save(tmp_path, 30, model, opt)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["step_00000020", "step_00000030"]
    assert json.loads((tmp_path / "step_00000030" / "meta.json").read_text())["step"] == 30


def test_world_size_mismatch_is_refused_by_name(tmp_path):
    model, opt = _stepped(0)
    path = _save(tmp_path, 1, model, opt)
    meta = json.loads((path / "meta.json").read_text())
    meta["world_size"] = 4
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RuntimeError, match="4 rank"):
        ckpt.load_checkpoint(path, model=model, optimizer=opt)


class _RunsCode:
    """What a tampered state file would carry: an object whose unpickling calls a function."""

    def __reduce__(self):
        import os

        return (os.makedirs, ("TAMPERED_MARKER_DIR",))


@pytest.mark.parametrize("name", ["trainer.pt", "rank0.pt"])
def test_tampered_checkpoint_is_refused_without_running_code(tmp_path, monkeypatch, name):
    model, opt = _stepped(0)
    path = _save(tmp_path, 3, model, opt)
    state = torch.load(path / name, weights_only=True)
    state["payload"] = _RunsCode()
    torch.save(state, path / name)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match=rf"{name}: refused to load"):
        ckpt.load_checkpoint(path, model=model, optimizer=opt)
    assert not (tmp_path / "TAMPERED_MARKER_DIR").exists()


def test_state_files_hold_only_tensors_and_plain_values(tmp_path):
    import numpy as np

    model, opt = _stepped(0)
    np.random.seed(7)
    path = _save(tmp_path, 2, model, opt)
    want = np.random.rand(3)
    np.random.seed(8)
    ckpt.load_checkpoint(path, model=model, optimizer=opt)
    assert np.array_equal(np.random.rand(3), want)  # numpy's RNG survives the plain round trip


def test_tampered_model_metadata_is_refused_without_running_code(tmp_path, monkeypatch):
    import pickle

    model, opt = _stepped(0)
    path = _save(tmp_path, 4, model, opt)
    (path / "model_optim" / ".metadata").write_bytes(pickle.dumps(_RunsCode()))
    monkeypatch.chdir(tmp_path)
    refused = r"model_optim/\.metadata: refused to load: (os|posix)\.makedirs is not allowed"
    with pytest.raises(RuntimeError, match=refused):
        ckpt.load_checkpoint(path, model=model, optimizer=opt)
    assert not (tmp_path / "TAMPERED_MARKER_DIR").exists()


def test_tampered_optimizer_entry_is_refused_without_running_code(tmp_path, monkeypatch):
    import io

    from torch.distributed.checkpoint.metadata import MetadataIndex
    from torch.distributed.checkpoint.planner import LoadItemType, ReadItem

    buf = io.BytesIO()
    torch.save({"lr": _RunsCode()}, buf)
    buf.seek(0)
    item = ReadItem(type=LoadItemType.BYTE_IO, dest_index=MetadataIndex("optim.param_groups"),
                    dest_offsets=torch.Size([0]), storage_index=MetadataIndex("optim.param_groups"),
                    storage_offsets=torch.Size([0]), lengths=torch.Size([0]))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="optim.param_groups: refused to load"):
        ckpt._SafeLoadPlanner().load_bytes(item, buf)
    assert not (tmp_path / "TAMPERED_MARKER_DIR").exists()
