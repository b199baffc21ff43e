from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Multi-agency reviews and C(E)TRs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr.contributions import contribute
        from reviews.contributions import CONTRIBUTION

        contribute(CONTRIBUTION)
