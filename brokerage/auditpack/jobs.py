"""The job that builds a requested auditor pack, and where packs are kept.

The request is recorded (queued) by the officer's request, and this job runs once that is committed
(`jobs.enqueue_after_commit`): it marks the request as being built, writes the pack from one snapshot,
and records the file, or the failure, each step in its own short transaction. Packs are kept under
the app's instance folder (or AUDIT_PACK_FOLDER, which must be shared storage when the web and the
workers run on different machines).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from brokerage.accounts.system import system_actor
from brokerage.auditpack import packs
from brokerage.auditpack.pack import snapshot_session, write_pack_file
from brokerage.auditpack.rules import parse_quarter
from brokerage.db import session_scope

BUILD = "auditpack.build"


def pack_folder(app: Flask | None = None) -> Path:
    """Return the folder packs are kept in: AUDIT_PACK_FOLDER, or `audit-packs` in the app's instance folder."""
    app = app or current_app
    return Path(app.config.get("AUDIT_PACK_FOLDER") or Path(app.instance_path) / "audit-packs")


def build_pack_job(*, council_id: int, request_id: int) -> dict:
    """Build the pack a council officer asked for, and record its file (a job: it runs in its own sessions)."""
    app = current_app._get_current_object()
    with session_scope(app) as session:
        actor = system_actor(session=session, council_id=council_id, create=False)
        record = packs.start_building(session=session, actor=actor, request_id=request_id)
        if record is None:
            return {"status": "skipped"}
        quarter, file_name = parse_quarter(record.quarter), packs.stored_name(record)
    folder = pack_folder(app) / str(council_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with snapshot_session(app) as session:
            written = write_pack_file(session=session, council_id=council_id, quarter=quarter, target=folder / file_name)
    except Exception as error:
        with session_scope(app) as session:
            actor = system_actor(session=session, council_id=council_id, create=False)
            packs.fail_building(session=session, actor=actor, request_id=request_id, error=f"{type(error).__name__}: {error}")
        raise
    with session_scope(app) as session:
        actor = system_actor(session=session, council_id=council_id, create=False)
        packs.finish_building(session=session, actor=actor, request_id=request_id, file_name=file_name, size=written.size, sha256=written.sha256)
    return {"status": "ready", "size": written.size, "sha256": written.sha256}
