"""Multi-agency review meetings, agreed actions and C(E)TRs."""
