"""One commit point per request: a success commits, a refusal or an error rolls back (STYLE.md habit 3)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import update
from sqlmodel import select

from brokerage import jobs
from brokerage.accounts.models import Council
from brokerage.db import get_session, keep_changes_when_refused, only_jobs_write
from brokerage.errors import Conflict
from brokerage.forms import BaseForm, refuse


def _council(slug: str) -> Council:
    return Council(slug=slug, name=f"Council {slug}")


def _app_with_views(app):
    views = Blueprint("commit_point_test", __name__)

    @views.route("/t/ok", methods=["POST"])
    def ok():
        get_session().add(_council("kept"))
        return "saved", 200

    @views.route("/t/redirect", methods=["POST"])
    def redirected():
        get_session().add(_council("redirected"))
        return "", 303, {"Location": "/"}

    @views.route("/t/refused", methods=["POST"])
    def refused():
        get_session().add(_council("refused"))
        return "check the form", 422

    @views.route("/t/raises", methods=["POST"])
    def raises():
        get_session().add(_council("raised"))
        get_session().flush()
        raise Conflict("Someone else changed this first.")

    @views.route("/t/counted", methods=["POST"])
    def counted():
        get_session().add(_council("counted"))
        keep_changes_when_refused()
        return "wrong password", 401

    @views.route("/t/form", methods=["POST"])
    def form_refused():
        get_session().add(_council("form"))
        get_session().flush()
        form = BaseForm(meta={"csrf": False})
        status = refuse(form, Conflict("That was already decided."))
        # What the page shows next is read after the rollback: the refused change is gone.
        assert get_session().exec(select(Council).where(Council.slug == "form")).first() is None
        return " ".join(form.form_errors), status

    app.register_blueprint(views)
    return app.test_client()


def _slugs(session) -> set[str]:
    return set(session.exec(select(Council.slug)).all())


def test_a_successful_answer_commits_the_request_once(app, session):
    client = _app_with_views(app)
    assert client.post("/t/ok").status_code == 200
    assert client.post("/t/redirect").status_code == 303
    assert {"kept", "redirected"} <= _slugs(session)


def test_a_refused_or_failed_request_changes_nothing(app, session):
    client = _app_with_views(app)
    assert client.post("/t/refused").status_code == 422
    assert client.post("/t/raises").status_code == 409
    form = client.post("/t/form")
    assert form.status_code == 409
    assert b"That was already decided." in form.data
    assert not {"refused", "raised", "form"} & _slugs(session)


def test_a_refusal_can_keep_what_it_recorded_about_itself(app, session):
    client = _app_with_views(app)
    assert client.post("/t/counted").status_code == 401
    assert "counted" in _slugs(session)


def test_a_page_that_only_reads_may_not_write(app):
    views = Blueprint("reads_test", __name__)

    @views.route("/t/read")
    def read_that_writes():
        get_session().add(_council("sneaky"))
        get_session().flush()
        return "read"

    app.register_blueprint(views)
    response = app.test_client().get("/t/read")
    # In tests a write from a GET is a failure; in production it is logged.
    assert response.status_code == 500


def _app_with_job_views(app):
    views = Blueprint("job_views_test", __name__)

    @views.route("/t/job", methods=["POST"])
    @only_jobs_write
    def starts_a_job():
        return str(jobs.enqueue("ping", message="hi").result)

    @views.route("/t/job-unmarked", methods=["POST"])
    def starts_a_job_while_it_may_write():
        return str(jobs.enqueue("ping", message="hi").result)

    @views.route("/t/job-writes", methods=["POST"])
    @only_jobs_write
    def writes_although_its_jobs_should():
        get_session().add(_council("sneaky-job"))
        return "done"

    app.register_blueprint(views)
    return app.test_client()


def test_a_view_whose_jobs_write_may_start_one(app):
    response = _app_with_job_views(app).post("/t/job")
    assert response.status_code == 200
    assert "'message': 'hi'" in response.get_data(as_text=True)


def test_a_view_that_may_write_cannot_start_a_job(app):
    # Its transaction holds SQLite's write lock and its work is not committed when the job looks.
    assert _app_with_job_views(app).post("/t/job-unmarked").status_code == 500


def test_a_view_whose_jobs_write_must_not_write_itself(app, session):
    assert _app_with_job_views(app).post("/t/job-writes").status_code == 500
    assert "sneaky-job" not in _slugs(session)


def test_a_page_that_writes_through_a_statement_is_caught_too(app):
    views = Blueprint("statement_test", __name__)

    @views.route("/t/read-statement")
    def read_that_updates():
        get_session().execute(update(Council).where(Council.slug == "nobody").values(name="changed"))
        return "read"

    app.register_blueprint(views)
    assert app.test_client().get("/t/read-statement").status_code == 500
