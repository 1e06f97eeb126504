"""Usernames as on TikTok: letters, digits, `_` and `.`, normalised (NFKC, lower case) before any check, unique
case-insensitively in the database, so neither a race nor a look-alike gets a second account with one name."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from video_platform import services
from video_platform.usernames import username_normalise, username_problem

from .clients import api_client
from .factories import UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db

PASSWORD = "lantern-orbit-97-quince"


def sign_up(username: str):
    return APIClient().post("/api/users/", {"username": username, "password": PASSWORD}, format="json")


def test_a_username_is_stored_in_lower_case_and_nfkc():
    response = sign_up("Ｋｅｖｉｎ.Ｏ_9")
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "kevin.o_9"
    assert User.objects.filter(username="kevin.o_9").exists()


@pytest.mark.parametrize(
    ("look_alike", "taken"),
    [("ａｎａ", "ana"), ("\u212aelvin", "kelvin"), ("ANA", "ana"), ("Ana", "ana")],
    ids=["fullwidth", "kelvin-sign", "upper-case", "capitalised"],
)
def test_a_look_alike_of_a_taken_name_is_a_400_on_username(look_alike, taken):
    UserFactory.create(username=taken)
    response = sign_up(look_alike)
    assert response.status_code == 400
    assert response.json() == {"username": ["That username is taken."]}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "username", ["\u0430na", "ana-b", "ana b", "ana@b", "ana+b", "ana.", "é", "ana\u200b", "", "x" * 151]
)
def test_a_name_outside_letters_digits_underscore_and_dot_is_a_400_on_username(username):
    response = sign_up(username)
    assert response.status_code == 400
    assert list(response.json()) == ["username"]
    assert not User.objects.exists()


def test_the_database_refuses_two_names_differing_only_in_case():
    User.objects.create(username="racer")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Racer")


def test_a_name_taken_between_check_and_insert_is_a_field_error_not_a_500():
    User.objects.create(username="Racer")  # as a concurrent sign-up could have written it, case and all
    with pytest.raises(services.ValidationError) as refused:
        services.user_create(username="racer", password=PASSWORD)
    assert refused.value.message_dict == {"username": ["That username is taken."]}


@pytest.mark.django_db(transaction=True)
def test_six_concurrent_sign_ups_with_one_name_give_one_account_and_five_field_errors():
    names = ["racer", "Racer", "rAcer", "RACER", "racer", "ｒａｃｅｒ"]
    start = threading.Barrier(len(names))
    statuses = []

    def attempt(name: str):
        try:
            start.wait()
            response = sign_up(name)
            statuses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in statuses) == [201, 400, 400, 400, 400, 400]
    assert [body for status, body in statuses if status == 400] == [{"username": ["That username is taken."]}] * 5
    assert list(User.objects.values_list("username", flat=True)) == ["racer"]


def test_the_sign_up_page_shows_the_services_username_error():
    UserFactory.create(username="ana")
    from django.test import Client

    response = Client().post("/signup/", {"username": "ＡＮＡ", "password": PASSWORD})
    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()
    assert User.objects.count() == 1


def test_demo_users_and_scenario_run_users_have_valid_stored_names():
    from qa.management.commands.seed import DEMO_USERS, OPERATOR_USERS
    from qa.scenarios.loading import Scenario
    from qa.scenarios.runner import ScenarioRun

    scenario = Scenario(
        path="x.yaml",
        name="x",
        users={"cara": {}, "Ana": {}, "dev_2": {}},
        follows={},
        blocks={},
        videos={},
        steps=[],
        expect={},
    )
    run_names = list(ScenarioRun(scenario).real.values())
    for name in [*(n for n, _ in DEMO_USERS), *(n for n, _ in OPERATOR_USERS), "admin", *run_names]:
        assert username_normalise(name) == name and username_problem(name) is None, name


def test_mentions_tags_and_profiles_find_a_user_whatever_the_case(make_user):
    ana = make_user(username="ana")
    client = api_client(make_user(username="ben"))
    assert client.get("/api/users/ANA/").json()["username"] == "ana"
    assert client.post("/api/conversations/", {"participants": ["Ana"]}, format="json").status_code == 201
    assert services.mentioned_users("hi @ANA", actor=ana) == []
    assert services.mentioned_users("hi @ANA", actor=User.objects.get(username="ben")) == [ana]


def test_the_migration_stores_existing_names_normalised_unless_that_would_take_another_users():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("video_platform.migrations.0003_username_unique_case_insensitively")
    User.objects.bulk_create([User(username="Ｂｏｂ"), User(username="ana"), User(username="ａｎａ")])
    migration.usernames_normalise(apps, None)
    assert sorted(User.objects.values_list("username", flat=True)) == ["ana", "bob", "ａｎａ"]
