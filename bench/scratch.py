"""A throwaway database for a benchmark: a SQLite file in a temporary folder, or a PostgreSQL
database created on the local server (SIAGA112_TEST_PG_URL names its admin connection); both
are removed afterwards, whatever happened."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from siaga112.bootstrap import build_context
from siaga112.config import Settings
from siaga112.context import Context


@contextmanager
def scratch_context(backend: str, label: str) -> Iterator[Context]:
    """A migrated, seeded context on a new `backend` ("sqlite" or "postgresql") database."""
    workdir = Path(tempfile.mkdtemp(prefix=f"siaga-{label}-"))
    admin = os.environ.get("SIAGA112_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dbname = f"siaga_{label}_{os.getpid()}"
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/{label}.db"
    else:
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {dbname}"], check=True)
        url = admin.rsplit("/", 1)[0] + "/" + dbname
    try:
        ctx = build_context(Settings(database_url=url, var_dir=workdir / "var"))
        try:
            yield ctx
        finally:
            ctx.db.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if backend == "postgresql":
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"], check=False)
