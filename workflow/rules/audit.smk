# Stage: audit. Each audited model (audit.pretrained, audit.finetuned) against the training
# notes of its pretraining mix: canary exposure, extraction, membership inference, identifier
# leakage -> results/audit/{name}.json and a figure; the verdicts in summary.md (report);
# then the model with its full card in results/share/{name}/ (lang1core.audit.card).

from lang1core.audit.settings import audit_settings

AUDIT = config["audit"]
AUDIT_NAMES = audit_names.audited(config)
AUDIT_EVALUATED = set(EVAL_RUN_KEYS)


rule audit:
    input:
        unpack(lambda wc: audit_inputs(wc.name)),
    output:
        json=res("audit", "{name}.json"),
    log:
        res("logs", "audit", "{name}.log"),
    benchmark:
        res("benchmarks", "audit", "{name}.tsv")
    wildcard_constraints:
        name=_alt(AUDIT_NAMES),
    conda:
        ENV
    threads: AUDIT["threads"]
    params:
        model_dir=lambda wc: audit_model_dir(wc.name),
        settings=audit_settings(config).to_dict(),
        device=AUDIT["device"],
        seed=config["seed"],
    script:
        "../scripts/audit.py"


# Drawn from the JSON alone, so a drawing option redraws without auditing again.
rule audit_figure:
    input:
        res("audit", "{name}.json"),
    output:
        report(
            res("audit", "{name}.png"),
            caption="../report/audit.rst",
            category="Audit",
            labels={"model": "{name}", "figure": "audit"},
        ),
    log:
        res("logs", "audit", "figure_{name}.log"),
    wildcard_constraints:
        name=_alt(AUDIT_NAMES),
    conda:
        ENV
    params:
        style=config["figures"],
        note="synthetic data" if config["source"] == "synthetic" else None,
    script:
        "../scripts/audit_figure.py"


rule audit_summary:
    input:
        json=expand(res("audit", "{name}.json"), name=AUDIT_NAMES),
        figures=expand(res("audit", "{name}.png"), name=AUDIT_NAMES),
    output:
        markdown=report(
            res("audit", "summary.md"),
            caption="../report/audit.rst",
            category="Audit",
            labels={"model": "all", "figure": "verdicts"},
        ),
        table=res("audit", "summary.csv"),
    log:
        res("logs", "audit", "summary.log"),
    conda:
        ENV
    script:
        "../scripts/audit_summary.py"


rule model_card:
    input:
        model=lambda wc: audit_inputs(audit_names.name_of_share(wc.base, wc.variant))[
            "model"
        ],
        audit=lambda wc: res(
            "audit", audit_names.name_of_share(wc.base, wc.variant) + ".json"
        ),
        mix_stats=lambda wc: audit_inputs(
            audit_names.name_of_share(wc.base, wc.variant)
        )["mix_stats"],
        metrics=lambda wc: audit_card_metrics(
            audit_names.name_of_share(wc.base, wc.variant), AUDIT_EVALUATED
        ),
    output:
        directory(res("share", "{base}", "{variant}")),
    log:
        res("logs", "audit", "card_{base}_{variant}.log"),
    wildcard_constraints:
        base="[^/]+",
        variant="[^/]+",
    conda:
        ENV
    params:
        name=lambda wc: audit_names.name_of_share(wc.base, wc.variant),
        model_dir=lambda wc: audit_model_dir(
            audit_names.name_of_share(wc.base, wc.variant)
        ),
        split=config["figures"]["split"],
    script:
        "../scripts/model_card.py"


TARGETS += [res("audit", "summary.md")] + [audit_share_dir(n) for n in AUDIT_NAMES]
