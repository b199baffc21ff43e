"""Fault injection against real Celery workers, Redis and PostgreSQL (RELIABILITY.md G-1 to G-5)."""
