from django.contrib.auth.models import User
from django.db import models


class Player(models.Model):
    """The course's player: a user's photo and score."""

    user = models.OneToOneField(User, on_delete=models.CASCADE)
    photo = models.URLField(max_length=256, blank=True)
    score = models.IntegerField(default=1500)
