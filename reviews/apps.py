from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Multi-agency reviews and C(E)TRs"
    default_auto_field = "django.db.models.BigAutoField"
