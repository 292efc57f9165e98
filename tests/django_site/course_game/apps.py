from django.apps import AppConfig


class CourseGameConfig(AppConfig):
    """The AcWing course's app, labelled `game` as there, so dumps name its model `game.player`."""

    name = "course_game"
    label = "game"
    default_auto_field = "django.db.models.AutoField"
