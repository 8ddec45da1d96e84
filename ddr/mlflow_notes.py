"""What a person sees in the MLflow UI: experiment kind and descriptions, run levels, links between runs.

MLflow 3 opens an experiment without `mlflow.experimentKind` in its GenAI view (traces, prompts);
`custom_model_development` opens the training-runs table. The UI's runs table pages 100 runs at a
time counting child runs, so an evaluation with 50-100 trainings fills a page by itself; every run
therefore carries `ddr.run` (evaluation | training) and the descriptions (`mlflow.note.content`,
rendered as Markdown) link to the evaluations-only view and to each evaluation's trainings. Those
links are the UI's own URL state (`searchFilter`), so they survive a copy of the store.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
NOTE_TAG = "mlflow.note.content"
LEVEL_TAG = "ddr.run"
EVALUATION, TRAINING = "evaluation", "training"
EVALUATIONS_FILTER = f"tags.`{LEVEL_TAG}` = '{EVALUATION}'"


def trainings_filter(parent_run_id: str) -> str:
    return f"tags.mlflow.parentRunId = '{parent_run_id}'"


def runs_link(experiment_id: str, search_filter: str) -> str:
    """A link inside the MLflow UI (hash router) to an experiment's runs table, filtered."""
    return f"#/experiments/{experiment_id}/runs?searchFilter={quote(search_filter, safe='')}"


def evaluations_note(dataset: str, experiment_id: str) -> str:
    return (
        f"**ddr evaluations on `{dataset}`.** Each *evaluation* run (tag `ddr.run = evaluation`) scores one "
        "distilled set under one protocol: its metrics `hlr`, `ior`, `lrs` (or `delta_aug`, `delta_noaug`, "
        "`ars`, or `acc`) are stepped by round and appear while it runs; `*_mean`/`*_std` and its description "
        "arrive when it ends; `system/*` is the machine's CPU, memory (and GPU) during it.\n\n"
        "Each evaluation's *trainings* (one student per role, round and learning rate: `test_acc` per epoch, "
        "`best_acc`) are its child runs: expand the evaluation's row, or follow the link in its description.\n\n"
        f"[Show evaluations only]({runs_link(experiment_id, EVALUATIONS_FILTER)}) (the filter "
        f"`{EVALUATIONS_FILTER}`); `ddr ui` prints the same link. Accuracies and scores are fractions "
        "(0.93, not 93)."
    )


def releases_note() -> str:
    return ("**Signed ddr ranking releases.** One run per published release: the release folder (ranking, "
            "index.html, signed attestation) as artifacts, tags naming the evaluation runs it ranks.")


def label_experiment(client: Any, experiment_id: str, note: str) -> None:
    """Tag an experiment as model training and describe it, keeping a description a person wrote."""
    tags = client.get_experiment(experiment_id).tags
    if tags.get(KIND_TAG) != TRAINING_KIND:
        client.set_experiment_tag(experiment_id, KIND_TAG, TRAINING_KIND)
    if not tags.get(NOTE_TAG):
        client.set_experiment_tag(experiment_id, NOTE_TAG, note)


def _score(m: dict[str, Any]) -> str:
    return f"{m['mean']:.4f} ± {m['std']:.4f}"


def evaluation_note(result: Any) -> str:
    """A finished evaluation's description: scores per round, accuracies, provenance, its trainings."""
    r = result
    lines = [f"**{r.kind.upper()} ({r.label} labels) of `{r.method}`** on {r.dataset}, ipc {r.ipc}, "
             f"protocol `{r.protocol['name']}` v{r.protocol['version']}, {r.rounds} round(s), w = {r.weight:g}.", "",
             "| score | mean ± std | per round |", "|---|---|---|"]
    for name, m in r.metrics.items():
        lines.append(f"| {name.upper()} | {_score(m)} | {' '.join(f'{v:.4f}' for v in m['per_round'])} |")
    acc = r.accuracies
    parts = [f"real {acc['real']:.4f}"] if "real" in acc else []
    parts += [f"{k} {sum(v) / len(v):.4f}" for k, v in acc.items() if k != "real" and v]
    lines += ["", "Accuracy (mean over rounds): " + ", ".join(parts) + ".", ""]
    inputs, env = r.inputs, r.environment
    dist = inputs.get("distilled") or {}
    lines += ["**Provenance**", "",
              f"- distilled set: `{dist.get('path') or 'in memory'}`, DVC md5 `{dist.get('md5')}`",
              f"- random baselines: seeds {', '.join(str(x['seed']) for x in inputs.get('random') or []) or '-'}",
              f"- data set: {inputs['dataset']['name']} sha256 `{inputs['dataset']['sha256'][:16]}…`",
              f"- protocol sha256 `{r.protocol.get('sha256', '')[:16]}…`; ddr {env.get('ddr')}, torch {env.get('torch')}, "
              f"{env.get('device')}; git `{(env.get('git_commit') or 'unknown')[:12]}`"]
    for t in inputs.get("teachers") or []:
        lines.append(f"- teacher {t['model']} sha256 `{t['sha256'][:16]}…` ({t.get('trained_by')})")
    res = getattr(r, "resources", None) or {}
    if res:
        lines.append(f"- {res['trainings']} trainings ({res['cached_trainings']} from the cache), "
                     f"{res['train_seconds']:.1f} s of training in all; wall time {r.wall_time_s:.1f} s")
    if r.mlflow:
        link = runs_link(r.mlflow["experiment_id"], trainings_filter(r.mlflow["run_id"]))
        lines += ["", f"[This evaluation's trainings]({link}) · "
                      f"[all evaluations]({runs_link(r.mlflow['experiment_id'], EVALUATIONS_FILTER)})"]
    return "\n".join(lines)
