"""Who may act on an escalation (ACCESS.md)."""

from dsr.models import User
from escalation import rules
from escalation.models import Escalation


def can_act(user: User, escalation: Escalation) -> bool:
    """An owner at the escalation's level or above, or at the level it was raised to, in whose
    area it is (ACCESS.md: senior managers at their level, the DSR lead at level 1, the
    executive lead at the top)."""
    level = rules.level_for(user)
    if not user.has_perm("dsr.act_on_escalations") or level == 0:
        return False
    if level < escalation.level:
        # The owners it was raised to keep it when it climbs past them: they know the case.
        raised_at = (
            escalation.transitions.filter(from_status="").values_list("to_level", flat=True).first()
        )
        if raised_at is None or level < raised_at:
            return False
    return Escalation.objects.visible_to(user).filter(pk=escalation.pk).exists()
