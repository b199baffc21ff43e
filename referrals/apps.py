from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import delivery, demo, records, timeline
        from escalation import triggers
        from referrals.demo import seed_referrals
        from referrals.notifications import referral_context
        from referrals.retention import DECLINED_REFERRALS, person_hold
        from referrals.sweeps import REFERRAL_OVERDUE
        from referrals.timeline import referral_events

        timeline.register_source(referral_events)
        triggers.define(REFERRAL_OVERDUE)
        delivery.register_context_provider("referrals.referral", referral_context)
        demo.register_demo_seeder(seed_referrals)
        records.register_retention_rule(DECLINED_REFERRALS)
        records.register_person_hold(person_hold)
