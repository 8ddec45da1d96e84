"""The one place that says where MLflow tracks: the tracking URI, the artifact root beside a sqlite store,
opening the store, experiments (created once, described for the UI) and the evaluation's runs.

Opening a store: a brand-new sqlite store is created and migrated by MLflow on first use; two processes
doing that at once race in the migration, so the first use happens under a lock file beside the database.
An HTTP tracking server that does not answer would make MLflow retry for minutes: it is probed once, with
a short timeout, and refused with one line.

Runs: one parent run per evaluation, one child run per training (brief section 5). Uses MlflowClient with
an explicit tracking URI (never the global fluent state), and logs each child run only once its training
has finished, so an interrupted evaluation leaves finished children and a parent marked KILLED or FAILED,
never a half-logged training.
"""
from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ddr.errors import DDRError
from ddr.paths import TRACKING_URI_ENV

DEFAULT_DB = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"  # beside a sqlite store, never the working directory
PROBE_TIMEOUT_S = 5.0
GIT_COMMIT_TAG = "ddr.git_commit"
MLFLOW_GIT_COMMIT_TAG = "mlflow.source.git.commit"  # MLflow's own, shown in its UI
STORE_LOCK_WAIT_S = 300.0  # another process creating or migrating the same new sqlite store


def default_store_uri() -> str:
    """The project's store: sqlite:///<cwd>/mlflow.db."""
    return f"sqlite:///{Path.cwd() / DEFAULT_DB}"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Explicit URI, else MLFLOW_TRACKING_URI, else sqlite:///<cwd>/mlflow.db (the project's store); a
    PostgreSQL one naming its driver (with_driver)."""
    return with_driver(uri or os.environ.get(TRACKING_URI_ENV) or default_store_uri())


def sqlite_db(uri: str) -> Path | None:
    """The database file of a sqlite:/// URI, None for any other store. sqlite:////abs/x.db -> /abs/x.db;
    sqlite:///x.db -> x.db (relative to the working directory); %-escapes decoded, a ?query dropped."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(unquote(uri[len("sqlite:///"):].split("?", 1)[0]))


POSTGRES_DRIVER = "postgresql+psycopg2://"  # the `postgres` extra's driver, psycopg2-binary


def is_postgres(uri: str) -> bool:
    """A PostgreSQL store (a team's tracking database, served by `ddr server`)."""
    return uri.startswith(("postgresql://", POSTGRES_DRIVER))


def with_driver(uri: str) -> str:
    """postgresql://... as postgresql+psycopg2://...: SQLAlchemy's default driver for a bare postgresql://
    changed between versions (psycopg2 in 2.0, psycopg 3 in 2.1), so the URI handed to MLflow names the one
    the `postgres` extra installs. Any other URI as given."""
    return POSTGRES_DRIVER + uri[len("postgresql://"):] if uri.startswith("postgresql://") else uri


def display_uri(uri: str) -> str:
    """The URI as it may be printed or written into a record: a password in it replaced by ***."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def artifact_root(uri: str) -> str | None:
    """Artifacts beside a sqlite store (file:.../mlartifacts); a server decides for itself (None)."""
    db = sqlite_db(uri)
    return None if db is None else (db.parent / ARTIFACTS_DIR).resolve().as_uri()


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_sqlite_file(db: Path) -> None:
    """A store's database file, if it exists, is a whole SQLite database: checked read-only before MLflow
    opens it (MLflow would fail deep in its migration with a long trace, or write into it). A file that
    does not exist yet is fine (it is created); one whose folder is a file is not."""
    import sqlite3

    for p in db.parents:
        if p.exists():
            if not p.is_dir():
                raise DDRError(f"MLflow store {db}: {p} is a file, not a folder")
            break
    if not db.exists():
        return
    if not db.is_file():
        raise DDRError(f"MLflow store {db} is not a file")
    try:
        with open(db, "rb") as f:
            header = f.read(100)
        size = db.stat().st_size
    except OSError as exc:
        raise DDRError(f"cannot read the MLflow store {db}: {exc.strerror or type(exc).__name__}") from None
    if size == 0:
        return  # an empty file is a new database to SQLite
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise DDRError(f"MLflow store {db} is not an SQLite database (damaged or another kind of file); move it "
                       "aside or point --tracking-uri elsewhere")
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the page count is current (written by SQLite 3.7+)
    if valid and pages and size < page * pages and not db.with_name(db.name + "-wal").exists():
        raise DDRError(f"MLflow store {db} is truncated ({size} of {page * pages} bytes); restore it from a copy "
                       "or point --tracking-uri elsewhere")
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DDRError(f"MLflow store {db} cannot be read as an SQLite database ({exc})") from None


def check_store(uri: str) -> None:
    """What can be checked about a store without writing to it: a sqlite file whole (check_sqlite_file),
    a PostgreSQL database or an HTTP server answering within PROBE_TIMEOUT_S. Raises DDRError."""
    if uri.startswith("sqlite:///"):
        check_sqlite_file(sqlite_db(uri))
    elif is_postgres(uri):
        check_postgres(uri)
    elif uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=PROBE_TIMEOUT_S):
                pass
        except urllib.error.HTTPError:
            pass  # it answers; what it says about /health is its own business
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DDRError(f"MLflow tracking server {uri} does not answer ({reason}); start it (ddr server) or "
                           "pass --no-mlflow") from None


def check_postgres(uri: str) -> None:
    """A postgresql:// store answers within PROBE_TIMEOUT_S, through the driver MLflow will use (psycopg2,
    the `postgres` extra). Raises DDRError: one line, never MLflow's minutes of retries."""
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None:
        raise DDRError("a postgresql:// store needs the psycopg2 driver: pip install 'ddr[postgres]'")
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = sqlalchemy.create_engine(with_driver(uri), connect_args={"connect_timeout": int(PROBE_TIMEOUT_S)})
        with engine.connect():
            pass
        engine.dispose()
    except (ArgumentError, SQLAlchemyError, ValueError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise DDRError(f"PostgreSQL store {display_uri(uri)} does not answer ({first[:300]})") from None


def prepare_store(uri: str) -> None:
    """Check the store (check_store), then create/migrate a sqlite store under a lock. Raises DDRError."""
    check_store(uri)
    if uri.startswith("sqlite:///"):
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
        from sqlalchemy.exc import SQLAlchemyError

        from ddr.locks import exclusive_lock

        db = sqlite_db(uri)
        db.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(db.with_name(db.name + ".lock"), timeout=STORE_LOCK_WAIT_S, what=f"MLflow store {db}"):
            try:
                MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates and migrates it
            except (MlflowException, SQLAlchemyError) as exc:  # a database that is SQLite but not MLflow's, or damaged inside
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise DDRError(f"MLflow store {db} cannot be opened: {first[:300]}") from None


def open_client(uri: str | None = None) -> Any:
    """An MlflowClient on the resolved URI, its store made ready first (a new sqlite store created under a
    lock; a server that does not answer refused in seconds, with one line)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(uri)
    prepare_store(uri)
    return MlflowClient(tracking_uri=uri)


def ensure_experiment(client: Any, name: str, *, store: str | None = None,
                      note: Callable[[str], str] | None = None) -> str:
    """The id of experiment `name`, created if missing with its artifacts in <artifact root>/<name>.
    `store`: the URI whose artifact root to use (default the client's own; a grid's private server is
    given its sqlite store, so runs logged directly to that store and through the server sit together).
    `note(experiment_id)`: the description shown in the UI (a description a person wrote is kept)."""
    from mlflow.exceptions import MlflowException

    from ddr.mlflow_notes import label_experiment

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        eid = exp.experiment_id
    else:
        root = artifact_root(store or client.tracking_uri)
        try:
            eid = client.create_experiment(name, artifact_location=f"{root}/{name}" if root else None)
        except MlflowException:  # another process created it a moment ago
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise
            eid = exp.experiment_id
    if note is not None:
        label_experiment(client, eid, note(eid))
    return eid


DATASET_RETRIES = 5


def is_dataset_conflict(exc: Exception) -> bool:
    """MLflow's unique key on (experiment, name, digest) of its datasets table refused an insert: another
    run inserted the same data set a moment earlier (over a server or straight into sqlite)."""
    text = str(exc)
    return "UNIQUE constraint failed: datasets." in text or ("datasets" in text and "duplicate key" in text)


def _now_ms() -> int:
    return int(time.time() * 1000)


class Tracker:
    def __init__(self, tracking_uri: str | None = None):
        self.uri = resolve_tracking_uri(tracking_uri)
        self.client = open_client(self.uri)
        self.parent_id: str | None = None
        self.experiment_id: str | None = None
        self.monitor = None  # the parent run's system metrics (ddr.system_metrics.RunMonitor)

    def experiment(self, name: str) -> str:
        from ddr.mlflow_notes import evaluations_note

        return ensure_experiment(self.client, name, store=self.uri, note=lambda eid: evaluations_note(name, eid))

    def start_parent(self, experiment: str, run_name: str, tags: dict[str, Any], params: dict[str, Any]) -> str:
        from mlflow.entities import Param

        from ddr.mlflow_notes import EVALUATION, LEVEL_TAG
        from ddr.system_metrics import RunMonitor
        from ddr.stale_runs import end_stale_parents, owner_tags

        self.experiment_id = self.experiment(experiment)
        end_stale_parents(self.client, self.experiment_id, tags)  # left RUNNING by a killed evaluation
        tags = {**owner_tags(), **{k: str(v) for k, v in tags.items()}, LEVEL_TAG: EVALUATION}
        if tags.get(GIT_COMMIT_TAG):  # also where MLflow's UI shows a run's commit
            tags[MLFLOW_GIT_COMMIT_TAG] = tags[GIT_COMMIT_TAG]
        run = self.client.create_run(self.experiment_id, run_name=run_name, tags=tags)
        self.parent_id = run.info.run_id
        self.client.log_batch(self.parent_id, params=[Param(k, str(v)) for k, v in params.items()])
        self.monitor = RunMonitor(self.client, self.uri, self.parent_id).start()
        return self.parent_id

    def log_round(self, round: int, values: dict[str, float]) -> None:
        """One round's scores on the parent, stepped by round, while the evaluation runs."""
        from mlflow.entities import Metric

        ts = _now_ms()
        self.client.log_batch(self.parent_id, metrics=[Metric(k, float(v), ts, round) for k, v in values.items()])

    def log_input(self, name: str, digest: str, source: str, context: str) -> None:
        """The run's input data set. MLflow inserts a data set new to the experiment after looking it up, in
        one transaction: two runs logging the same new set at once (cells starting together) both miss it,
        and the second insert breaks the table's unique key and is rolled back whole. That conflict means
        the set now exists, so the call is repeated, and then only links it to this run."""
        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.exceptions import MlflowException

        ds = Dataset(name=name, digest=digest, source_type="local", source=source)
        inputs = [DatasetInput(ds, [InputTag("mlflow.data.context", context)])]
        for attempt in range(DATASET_RETRIES + 1):
            try:
                self.client.log_inputs(self.parent_id, inputs)
                return
            except MlflowException as exc:
                if attempt == DATASET_RETRIES or not is_dataset_conflict(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))

    def log_teachers(self, teachers: list[dict[str, Any]], protocol: Any) -> list[str]:
        """The evaluation's teachers as MLflow models linked to its run (ddr.teacher_models)."""
        from ddr.teacher_models import log_teachers

        return log_teachers(self.client, self.experiment_id, self.parent_id, teachers, protocol)

    def log_training(self, record: dict[str, Any], tags: dict[str, Any]) -> str:
        """A finished child run: params, per-epoch test accuracy as a stepped metric, best accuracy."""
        from mlflow.entities import Metric, Param

        from ddr.mlflow_notes import LEVEL_TAG, TRAINING

        start = _now_ms()
        name = f"{record['role']}-r{record['round']}-lr{record['lr']:g}"
        run = self.client.create_run(
            self.experiment_id, start_time=start, run_name=name,
            tags={"mlflow.parentRunId": self.parent_id, LEVEL_TAG: TRAINING, **{k: str(v) for k, v in tags.items()}},
        )
        rid = run.info.run_id
        params = [Param(k, str(record[k])) for k in ("role", "round", "lr", "seed", "key")]
        metrics = [Metric("test_acc", acc, start, step) for step, acc in record["history"]]
        metrics += [Metric("best_acc", record["best_acc"], start, 0),
                    Metric("best_epoch", record["best_epoch"], start, 0),
                    Metric("train_seconds", record["seconds"], start, 0)]
        self.client.log_batch(rid, metrics=metrics, params=params)
        self.client.set_terminated(rid, "FINISHED")
        return rid

    def finish_parent(self, metrics: dict[str, float], artifacts: list[Path], note: str | None = None) -> None:
        from mlflow.entities import Metric

        from ddr.mlflow_notes import NOTE_TAG

        ts = _now_ms()
        self.client.log_batch(self.parent_id, metrics=[Metric(k, float(v), ts, 0) for k, v in metrics.items()])
        if note:
            self.client.set_tag(self.parent_id, NOTE_TAG, note)
        for path in artifacts:
            self.client.log_artifact(self.parent_id, str(path))
        if self.monitor is not None:
            self.monitor.wait_for_first_point()  # a short evaluation waits for its one system/* sample
        self._end("FINISHED")

    def _end(self, status: str) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.end(status)
        else:
            self.client.set_terminated(self.parent_id, status)

    def abort_parent(self, status: str) -> None:
        if self.parent_id is not None:
            self._end(status)
