import factory
from django.contrib.auth import get_user_model

from video_platform.models import Video

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

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
