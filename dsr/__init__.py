"""The DSR project package, and the register app."""

from dsr.celery import app as celery_app

__all__ = ("celery_app",)
