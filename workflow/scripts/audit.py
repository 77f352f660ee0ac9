"""Rule audit: one model's memorisation and identifier audit -> JSON (numbers only)."""

import os

# Passive OpenMP waiting: audit jobs share the cores with other jobs (see scripts/pretrain.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from lang1core.audit.run import audit_model  # noqa: E402
from lang1core.audit.settings import AuditSettings  # noqa: E402
from lang1core.corpus.io import write_json  # noqa: E402
from lang1core.logs import setup_logging  # noqa: E402
from lang1core.provenance import provenance  # noqa: E402

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
p = sm.params
settings = AuditSettings.from_dict(p.settings, source="config audit section")
result = audit_model(p.model_dir, train_parquet=sm.input.train, mix_stats=sm.input.mix_stats,
                     clean_parquet=sm.input.clean, patients_parquet=sm.input.patients, settings=settings,
                     reference_dir=sm.input.get("reference"), device=p.device, name=sm.wildcards.name)
write_json(sm.output.json, result, provenance(sm.config, p.seed, mix_stats=sm.input.mix_stats))
