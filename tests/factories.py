from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from video_platform.models import Video

PASSWORD = "correct-horse-battery"


@cache
def password_hash() -> str:
    """PASSWORD hashed once per session: hashing costs ~0.2 s, and any process (a server) can check it."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def display_name(user, create, extracted, **kwargs):
        if create:
            user.save()
            user.profile.display_name = extracted or user.username.title()
            user.profile.save(update_fields=["display_name"])


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    creator = factory.SubFactory(UserFactory)
    caption = factory.Sequence(lambda n: f"video number {n}")
