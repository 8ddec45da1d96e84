"""`ddr.evaluate`: the Python API behind `ddr eval` (folder or in-memory tensors in, EvalResult out)."""
from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import torch

from ddr.data.distilled import DistilledSet, read_distilled, validate
from ddr.data.folder_checks import check_images
from ddr.data.random_baseline import load_random_baselines
from ddr.data.real import load_dataset
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.models import build_model
from ddr.eval import acc as acc_eval
from ddr.eval import ars as ars_eval
from ddr.eval import lrs as lrs_eval
from ddr.eval.environment import environment
from ddr.eval.executor import Executor
from ddr.eval.finished import Finished
from ddr.eval.plan import TrainingSpec
from ddr.eval.predictions import write_predictions
from ddr.eval.reference import constant_info
from ddr.eval.request import EvalRequest
from ddr.eval.result import EvalResult, training_resources
from ddr.eval.selection import carve_validation, selection_record
from ddr.eval.session import EvalSession, Progress, Teachers, Trainer, engine_name, parse_engine
from ddr.eval.zca_space import whiten
from ddr.kernel.clock import utc_now
from ddr.kernel.registry import Registry
from ddr.mlflow_notes import evaluation_note
from ddr.paths import check_cache_dir, default_cache_dir  # default_cache_dir is also imported from here
from ddr.protocols import Protocol, default_protocol, load_protocol
from ddr.protocols.cross_arch import student_of
from ddr.protocols.editions import edition_of
from ddr.tracking import Tracker, check_store, display_uri, resolve_tracking_uri
from ddr.train.cache import TrainingCache
from ddr.train.engine import resolve_device, train_student

# Each evaluation module scores a finished plan (ddr.eval.plan): score(finished, protocol, rounds, weight)
# and round_scores(finished, protocol, r, weight).
EVALUATIONS: Registry[ModuleType] = Registry("evaluation")
for _kind, _module in (("lrs", lrs_eval), ("ars", ars_eval), ("acc", acc_eval)):
    EVALUATIONS.register(_kind, _module)
KINDS = EVALUATIONS.names()


class Prepared(NamedTuple):
    protocol: Protocol
    data: RealData
    distilled: DistilledSet
    rounds: int


def _as_distilled(distilled: Any, labels: torch.Tensor | None, lr: float | None, data) -> DistilledSet:
    if isinstance(distilled, DistilledSet):
        ds = dataclasses.replace(distilled)  # labels/lr below must not change the caller's object
    elif isinstance(distilled, torch.Tensor):
        check_images(distilled, "distilled images")
        ds = DistilledSet(distilled.detach().cpu().float(), None, None, {})
    elif isinstance(distilled, (str, Path)):
        ds = read_distilled(distilled, data)
    else:
        raise DDRError(f"distilled must be a folder path, a DistilledSet or an image tensor, not {type(distilled).__name__}")
    if labels is not None:
        ds.labels = labels.detach().cpu()
    if lr is not None:
        ds.lr = float(lr)
    return ds


def prepare(request: EvalRequest, data: RealData | None = None) -> Prepared:
    """Everything that can refuse the input, before anything is written or logged (the request's own
    types were checked when it was built). `data`: the real data set already in memory (else
    `request.dataset` is loaded by name)."""
    kind, dataset, ipc, rounds = request.kind, request.dataset, request.ipc, request.rounds
    EVALUATIONS.get(kind)  # an unknown kind is refused before anything is read
    data = load_dataset(dataset, request.root) if data is None else data
    given = request.protocol
    base = given if isinstance(given, Protocol) else load_protocol(given or default_protocol(dataset, kind, request.label))
    proto = edition_of(base, request.edition)
    if proto.dataset not in (dataset, "any"):
        raise DDRError(f"protocol {proto.name} is for data set '{proto.dataset}', not '{dataset}'")
    build_model(proto.model, data.channels, data.num_classes, data.im_size, **proto.model_args)  # refuse early
    ds = _as_distilled(request.distilled, request.labels, request.lr, data)
    validate(ds, data, ipc)
    n_rounds = proto.rounds if rounds is None else rounds
    if n_rounds < 1:
        raise DDRError(f"rounds must be at least 1, got {n_rounds}")
    if kind == "ars" and proto.train.augmentation is None:
        raise DDRError(f"protocol {proto.name} has no augmentation: ARS compares training with and without it")
    if proto.label == "soft" and proto.soft.mode == "S" and (ds.labels is None or ds.labels.ndim != 2):
        raise DDRError(f"protocol {proto.name} uses soft-label mode S: the set needs labels.pt with N x "
                       f"{data.num_classes} soft labels")
    return Prepared(proto, data, ds, n_rounds)


def evaluate(kind: str, *, distilled: Any, dataset: str, ipc: int, protocol: str | Protocol | None = None,
             rounds: int | None = None, weight: float | None = None, root: str | None = None,
             labels: torch.Tensor | None = None, lr: float | None = None, method: str | None = None,
             device: str | None = "auto", track: bool = True, tracking_uri: str | None = None,
             cache_dir: str | Path | None = None, use_cache: bool = True, out: str | Path | None = None,
             random: list[str] | None = None, label: str = "hard", teachers: list[str] | None = None,
             progress: Progress | None = None, tags: dict[str, Any] | None = None,
             engine: str = "plain", real_checkpoint: str | Path | None = None, edition: str = "ddr") -> EvalResult:
    """Evaluate a distilled set: `evaluate("lrs", distilled="path/", dataset="digits", ipc=10)`.

    `kind` is "lrs", "ars" or "acc"; `protocol` is a shipped name, a YAML path or a Protocol held in memory;
    without it, the shipped `<dataset>-<kind>-<label>` is used.
    Soft-label protocols use `teachers` (one checkpoint per protocol teacher) or train their teachers
    once on the real data and cache them.

    `distilled` is a folder (images.pt format or class folders), a DistilledSet, or an N x C x H x W
    tensor in the data set's normalised pixel space (class-major; pass `labels`/`lr` alongside).
    MLflow logging is optional (`track=False`). Finished trainings are cached under `cache_dir`
    (default .ddr/cache, or DDR_CACHE_DIR), so an interrupted evaluation resumes where it stopped.
    `random` lists versioned random-baseline folders (`ddr data random`); round r uses the one with seed
    seed_base + r, and draws it itself when none is given (the same images either way).
    `tags` are extra MLflow tags for the parent run (ddr's own tags take precedence).
    `engine`: 'plain' (default: one student after another, the reference numbers), 'batched' (the
    hard-label, unaugmented trainings of every LR and round trained at once) or 'compiled' (each student
    torch.compile'd, ddr.train.compiled), both within the tolerance stated in benchmarks/RESULTS.md;
    optionally with '+bf16' (autocast), '+cl' (channels_last), '+compile' ('plain+compile' = 'compiled').
    `real_checkpoint`: a state dict of the protocol's model whose test accuracy is Acc(real) (LRS), instead
    of training the real-data reference; recorded with its file's sha256 in result.json.
    `edition`: 'ddr' (default), 'ddranking-0.2' or 'leaderboard-2025-02' (ddr.protocols.editions): the
    protocol as ddr corrects it, as DD-Ranking 0.2.0 computes it, or as the 0.1.x code behind the public
    leaderboard did; recorded in result.json, the MLflow tags and every ranking table.
    """
    request = EvalRequest(
        kind, distilled=distilled, dataset=dataset, ipc=ipc, protocol=protocol, rounds=rounds, weight=weight,
        root=root, labels=labels, lr=lr, method=method, device=device, track=track, tracking_uri=tracking_uri,
        cache_dir=cache_dir, use_cache=use_cache, out=out, random=random or (), label=label,
        teachers=teachers or (), tags=tags or {}, engine=engine, real_checkpoint=real_checkpoint, edition=edition)
    return run_evaluation(request, progress=progress)


class Opened(NamedTuple):
    """An evaluation checked and set up, nothing trained: its session holds the sets and walks the plan."""

    protocol: Protocol
    data: RealData  # whitened under a ZCA protocol
    distilled: DistilledSet
    rounds: int
    weight: float
    device: torch.device
    validation: Any
    real_checkpoint: Any
    session: EvalSession


def open_session(request: EvalRequest, *, progress: Progress | None = None, data: RealData | None = None,
                 trainer: Trainer = train_student) -> Opened:
    """Everything an evaluation checks and loads before its first training (the session has no tracker)."""
    kind, ipc = request.kind, request.ipc
    parse_engine(request.engine)  # refuse a bad engine name before anything is loaded
    proto, data, ds, n_rounds = prepare(request, data)
    cache_dir = (Path(request.cache_dir) if request.cache_dir else default_cache_dir()) if request.use_cache else None
    if cache_dir is not None:
        check_cache_dir(cache_dir)  # a cache that cannot be written fails now, not after the first training
    if request.track:
        check_store(resolve_tracking_uri(request.tracking_uri))  # a damaged store too, before anything loads
    validation = None
    random = request.random
    if proto.selection == "val":
        # carved before anything else sees the data: random baselines, the real reference and teachers
        # come from the rest of the training set
        data, validation = carve_validation(data, proto.val_fraction)
        if random and progress:
            progress("note: selection 'val' draws its random baselines from the training set without the "
                     "validation split; --random folders ignored")
        random = None
    random_sets = load_random_baselines(list(random or []), data, ipc)
    real_ref = None
    if request.real_checkpoint is not None:
        from ddr.eval.reference import load_reference

        real_ref = load_reference(request.real_checkpoint, proto, data)  # a checkpoint that does not fit fails here
        if kind != "lrs" and progress:
            progress(f"note: {kind} has no real-data reference; --real-checkpoint ignored")
    dev = resolve_device(request.device)
    preloaded = _given_teachers(request, proto, data, dev, progress)
    w = proto.weight if request.weight is None else float(request.weight)
    if not 0.0 <= w <= 1.0:
        raise DDRError(f"weight must lie in [0, 1], got {w}")
    raw, zca = data, None
    if proto.zca is not None:
        data, zca = whiten(data, float(proto.zca.get("eps", 0.1)))
    session = EvalSession(protocol=proto, data=data, ipc=ipc, device=dev, cache=TrainingCache(cache_dir), tracker=None,
                          progress=progress, random_sets=random_sets, zca=zca, raw_data=raw, engine=request.engine,
                          real_checkpoint=real_ref if kind == "lrs" else None, teachers=preloaded,
                          trainer=trainer, validation=validation)
    return Opened(proto, data, ds, n_rounds, w, dev, validation, real_ref, session)


class KeyedPlan(NamedTuple):
    """An evaluation's plan with each training's cache key, nothing trained: `keys[i]` is the key
    `specs[i]`'s record has or will be stored under, `cached[i]` whether the cache holds it (both None where
    the key needs teachers not trained yet; a real reference that is not trained, a given checkpoint or a
    constant, has no key and is never cached)."""

    opened: Opened
    specs: list[TrainingSpec]  # keyed where the key is known without training teachers
    executor: Executor  # walks `specs` (its cache, no tracker)
    keys: list[str | None]
    cached: list[bool | None]


def keyed_plan(request: EvalRequest) -> KeyedPlan:
    """The request's plan with its cache keys and hits, checked and set up as the evaluation would be (its
    inputs are refused the same way), without MLflow: what `ddr eval --plan` prints and a grid pools."""
    opened = open_session(request.replace(track=False))
    session = opened.session
    specs = session.keyed(session.plan(request.kind, opened.distilled, opened.rounds))
    executor = session.executor()
    return KeyedPlan(opened, specs, executor, [executor.planned_key(s) for s in specs],
                     [executor.cached(s) for s in specs])


def run_evaluation(request: EvalRequest, *, progress: Progress | None = None, data: RealData | None = None,
                   trainer: Trainer = train_student) -> EvalResult:
    """Run one EvalRequest (what `evaluate`, `ddr eval` and a grid cell build). `progress` receives
    one line per step (or, with an `on_event` method, ddr.eval.events); two seams for benchmarks: `data`,
    the real data set already in memory (default: `request.dataset` loaded by name), and `trainer`, which
    trains each student alone (default train_student; anything with its signature, e.g. a reference loop)."""
    kind, ipc = request.kind, request.ipc
    proto, data, ds, n_rounds, w, dev, validation, real_ref, session = open_session(
        request, progress=progress, data=data, trainer=trainer)
    method_name = request.method or ds.meta.get("method") or (ds.path.name if ds.path else "unknown")
    digest = ds.digest()
    tracker = session.tracker = Tracker(request.tracking_uri) if request.track else None
    env = environment(dev, engine_name(request.engine))
    specs = session.plan(kind, ds, n_rounds)
    scorer = EVALUATIONS.get(kind)
    started, t0 = utc_now(), time.perf_counter()
    try:
        if tracker is not None:  # inside: a start interrupted half-way ends its run too (never left RUNNING)
            _start_parent(tracker, request, proto, data, ds, method_name, digest, env, n_rounds, w, dev)
        def log_round(r: int, finished: Finished) -> None:  # the round's scores while the evaluation runs
            if tracker is not None:
                tracker.log_round(r, scorer.round_scores(finished, proto, r, w))

        finished = session.run(specs, on_round=log_round)
        body = scorer.score(finished, proto, n_rounds, w)
        out = request.out
        scratch = Path(out) if out else Path(tempfile.mkdtemp(prefix="ddr-"))
        pred_info, per_class, pred_path = write_predictions(finished.trainings, finished.predictions, data, scratch)
        result = EvalResult(
            kind=kind, label=proto.label, method=method_name, dataset=data.name, ipc=ipc, model=proto.model,
            protocol={"name": proto.name, "version": proto.version, "sha256": proto.sha256,
                      "edition": proto.edition,
                      **({"edition_changes": proto.edition_changes} if proto.edition_changes else {}),
                      **({"student": student_of(proto)} if student_of(proto) else {})},
            weight=w, rounds=n_rounds, metrics=body["metrics"], accuracies=body["accuracies"],
            trainings=finished.trainings,
            # content_sha256: the images and labels alone (no meta.json), so two methods that select the
            # same set are seen as one by the registry
            inputs={"distilled": {"path": str(ds.path) if ds.path else None, "md5": digest, "lr": ds.lr,
                                  "content_sha256": ds.content_digest(),
                                  **({"resized": ds.meta["resized"]} if "resized" in ds.meta else {})},
                    "random": session.sets.random_inputs(sorted({s.round for s in specs if s.data == "random"})),
                    "dataset": {"name": data.name, "sha256": data.digest, "source": data.source},
                    "teachers": session.sets.teacher_inputs(),
                    **({"real_checkpoint": real_ref[1]} if real_ref and kind == "lrs" else {}),
                    **({"real_constant": constant_info(proto)} if kind == "lrs" and proto.real_acc_cached is not None
                       else {})},
            environment=env,
            mlflow={"tracking_uri": display_uri(tracker.uri), "experiment_id": tracker.experiment_id,
                    "run_id": tracker.parent_id} if tracker else None,
            started_at=started, finished_at=utc_now(), wall_time_s=round(time.perf_counter() - t0, 3),
            resources=training_resources(finished.trainings),
            selection=selection_record(proto, validation, finished.selection_log),
            predictions=pred_info, per_class_accuracy=per_class,
        )
        path = result.save(Path(out) / "result.json") if out else None
        if tracker is not None:
            if path is None:  # the artifact is the same JSON, written to a scratch file
                path = result.save(scratch / "result.json")
            _finish_parent(tracker, result, proto, [path] + ([pred_path] if pred_path else []))
        return result
    except KeyboardInterrupt:
        if tracker is not None:
            tracker.abort_parent("KILLED")
        raise
    except BaseException:
        if tracker is not None:
            tracker.abort_parent("FAILED")
        raise


def _given_teachers(request: EvalRequest, proto: Protocol, data: RealData, dev: torch.device,
                    progress: Progress | None) -> Teachers | None:
    """The user's teacher checkpoints, loaded now (one that does not fit fails before anything is logged);
    None when the evaluation provides its own teachers, or uses none."""
    if request.teachers and proto.soft is None:
        if progress:  # a hard-label protocol has no teachers; pipelines pass one teacher to every metric
            progress(f"note: protocol {proto.name} uses hard labels; --teacher ignored")
        return None
    if not request.teachers:
        return None
    from ddr.eval.teacher_store import provide_teachers

    return provide_teachers(proto, data, dev, None, list(request.teachers))


def _start_parent(tracker: Tracker, request: EvalRequest, proto: Protocol, data: RealData, ds: DistilledSet,
                  method_name: str, digest: str, env: dict[str, Any], n_rounds: int, w: float,
                  dev: torch.device) -> None:
    kind, ipc, engine = request.kind, request.ipc, request.engine
    tracker.start_parent(
        experiment=data.name, run_name=f"{kind}-{proto.label}-{method_name}-ipc{ipc}",
        tags={**(request.tags or {}), "ddr.kind": kind, "ddr.label": proto.label, "ddr.method": method_name,
              "ddr.dataset": data.name, "ddr.ipc": ipc, "ddr.protocol": proto.name,
              "ddr.protocol_version": proto.version, "ddr.edition": proto.edition,
              "ddr.git_commit": env["git_commit"] or "",
              "ddr.dvc_md5": digest, "ddr.dvc_lock_md5": env["dvc_lock_md5"] or ""},
        params={"model": proto.model, "epochs": proto.train.epochs, "lr_grid": list(proto.lr_grid),
                "lr_policy": proto.lr_policy, "rounds": n_rounds, "weight": w, "seed_base": proto.seed_base,
                "device": dev.type, **({"engine": engine} if engine != "plain" else {})},
    )
    tracker.log_input(f"{method_name}-{data.name}-ipc{ipc}", digest, str(ds.path or "memory"), "training")
    tracker.log_input(data.name, data.digest[:32], data.source, "testing")


def _finish_parent(tracker: Tracker, result: EvalResult, proto: Protocol, artifacts: list[Path]) -> None:
    flat = {f"{k}_{s}": v[s] for k, v in result.metrics.items() for s in ("mean", "std")}
    if "real" in result.accuracies:
        flat["real_acc"] = result.accuracies["real"]
    for i, t in enumerate(result.inputs.get("teachers") or []):
        if t.get("test_acc") is not None:
            flat[f"teacher{i}_test_acc"] = t["test_acc"]
    if result.inputs["teachers"]:
        tracker.log_teachers(result.inputs["teachers"], proto)
    flat["train_seconds"] = result.resources["train_seconds"]
    tracker.finish_parent(flat, artifacts, note=evaluation_note(result))
