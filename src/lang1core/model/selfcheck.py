"""Check the Triton kernels a run is about to use against their PyTorch references, on a
small batch of the run's own shapes, and fall back to PyTorch for any that disagree.

A kernel that is fast but wrong on some GPU, dtype or head dimension would otherwise train
or score silently with wrong numbers. Before training (lang1core.train.trainer) and before
scoring or finetuning (lang1core.finetune.runs), `guard_kernels` runs each enabled kernel
once at the run's head dim, GQA ratio, hidden size, vocabulary and precision
(lang1core.kernels.checks does the comparison); a kernel outside its tolerance, or one that
raises, is disabled for the process (lang1core.model.backends) with a WARNING, and the
returned report goes into the run's provenance (and the trainer's metrics.csv).

Report: {"device", "precision", "kernels": {kernel: comparison dict | {"ok": False,
"error": message}}, "fallback": [disabled kernels]}; {} when the run uses no Triton kernel
or none can run on its device.
"""

from __future__ import annotations

import logging

import torch

from lang1core.model import backends
from lang1core.model.config import ModelConfig

log = logging.getLogger(__name__)

# Longest sequence checked: long enough to cross several key and query blocks (GPU blocks
# are 32-128 wide) and not a multiple of any, short enough to take well under a second.
MAX_CHECK_LEN = 257
BATCH = 2


def kernels_in_use(cfg: ModelConfig) -> list[str]:
    """The Triton kernels a model with this config calls (names as in backends)."""
    switches = {"attention": cfg.attention == "triton", "rmsnorm": cfg.norm == "triton",
                "fused_linear_ce": cfg.loss == "fused"}
    return [kernel for kernel, on in switches.items() if on]


def _compare(kernel: str, cfg: ModelConfig, t: int, device, dtype, autocast: bool):
    from lang1core.kernels import checks

    # attention sees the projections' output dtype (bfloat16 under autocast); the norms and
    # the loss see the residual stream and the weights, which stay in the parameters' dtype
    act = torch.bfloat16 if autocast else dtype
    if kernel == "attention":
        return checks.compare_attention(BATCH, cfg.n_heads, cfg.n_kv_heads, t, cfg.head_dim,
                                        dtype=act, device=device, autocast=autocast)
    if kernel == "rmsnorm":
        return checks.compare_rmsnorm((BATCH, t, cfg.dim), dtype=dtype, device=device,
                                      autocast=autocast, eps=cfg.norm_eps)
    return checks.compare_fused_linear_ce(BATCH * t, cfg.dim, cfg.vocab_size, dtype=dtype,
                                          device=device, autocast=autocast)


def check_kernels(cfg: ModelConfig, device, *, dtype=torch.float32, autocast: bool = False,
                  seq_len: int | None = None) -> dict:
    """Compare every kernel `cfg` uses with its reference; no side effects."""
    device = torch.device(device)
    kernels = kernels_in_use(cfg)
    if not kernels or not backends.triton_runs_on(device):
        return {}
    t = min(seq_len or cfg.max_seq_len, MAX_CHECK_LEN)
    report = {"device": str(device), "precision": str(dtype).removeprefix("torch.")
              + (" bf16-autocast" if autocast else ""), "kernels": {}}
    for kernel in kernels:
        try:
            report["kernels"][kernel] = _compare(kernel, cfg, t, device, dtype, autocast).to_dict()
        except Exception as err:  # a kernel that cannot run these shapes is as unusable as a wrong one
            report["kernels"][kernel] = {"kernel": kernel, "ok": False, "error": f"{type(err).__name__}: {err}"}
    return report


def _agree_across_ranks(report: dict, device: torch.device) -> None:
    """Under FSDP every rank must take the same path: a kernel failing on any rank fails on all."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or not report:
        return
    names = sorted(report["kernels"])
    bad = torch.tensor([0.0 if report["kernels"][k]["ok"] else 1.0 for k in names],
                       device=device if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(bad, op=dist.ReduceOp.MAX)
    for k, b in zip(names, bad.tolist()):
        if b and report["kernels"][k]["ok"]:
            report["kernels"][k] = {**report["kernels"][k], "ok": False, "error": "failed on another rank"}


def guard_kernels(cfg: ModelConfig, device, *, dtype=torch.float32, autocast: bool = False,
                  seq_len: int | None = None, what: str = "run") -> dict:
    """check_kernels, then disable (and say so loudly) every kernel that failed. `what`
    names the run in the log line. Returns the report with "fallback" filled in."""
    device = torch.device(device)
    report = check_kernels(cfg, device, dtype=dtype, autocast=autocast, seq_len=seq_len)
    _agree_across_ranks(report, device)
    if not report:
        return report
    report["fallback"] = []
    for kernel, res in report["kernels"].items():
        if res["ok"]:
            backends.enable_kernel(kernel)
            log.info("kernel self-check %s: Triton %s matches PyTorch (%s, worst %s off by %.2g of "
                     "its scale, tolerance %.2g)", what, kernel, res["setting"], res["worst"],
                     res["relative_error"], res["tolerance"])
            continue
        why = res.get("error") or (f"{res['worst']} off by {res['relative_error']:.3g} of its scale "
                                   f"(tolerance {res['tolerance']:.3g}) at {res['setting']}")
        backends.disable_kernel(kernel, f"failed its self-check on {device}: {why}")
        report["fallback"].append(kernel)
        log.warning("kernel self-check %s: Triton %s kernel DISAGREES with PyTorch on %s (%s); "
                    "this run uses the PyTorch path instead", what, kernel, device, why)
    return report
