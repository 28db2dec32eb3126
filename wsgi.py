"""The WSGI entry point: the only module that creates an app."""

from brokerage import create_app

app = create_app()
