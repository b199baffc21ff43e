"""Escalation of red and amber people to senior managers in health and the local authority."""
