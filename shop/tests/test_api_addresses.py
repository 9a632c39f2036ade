"""The address book API: own addresses only (404 otherwise), ISO countries, snapshots."""

import pytest
from rest_framework.test import APIClient

from core.tests.helpers import api, client_for
from shop.models import Address
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = {
    "full_name": "Grace Hopper",
    "line1": "1 Navy Way",
    "city": "Arlington",
    "region": "VA",
    "postal_code": "22202",
    "country": "us",
}


def test_create_and_list_own_addresses(django_assert_max_num_queries):
    user = UserFactory()
    client = client_for(user)
    response = client.post(api("addresses"), NEW, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "full_name": "Grace Hopper",
        "line1": "1 Navy Way",
        "line2": "",
        "city": "Arlington",
        "region": "VA",
        "postal_code": "22202",
        "country": "US",
        "phone": "",
    }
    Address.objects.create(user=UserFactory(), **{**NEW, "country": "DE"})  # someone else's
    for _ in range(3):
        client.post(api("addresses"), NEW, format="json")
    with django_assert_max_num_queries(4):
        listed = client.get(api("addresses")).json()
    assert listed["count"] == 4
    assert {a["country"] for a in listed["results"]} == {"US"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": None}, "country"),
        ({"line1": ""}, "line1"),
        ({"id": 5}, "id"),
        ({"user": 1}, "user"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(change, field):
    body = {**NEW, **change}
    response = client_for(UserFactory()).post(api("addresses"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Address.objects.count() == 0


def test_missing_field_is_400():
    body = {k: v for k, v in NEW.items() if k != "city"}
    response = client_for(UserFactory()).post(api("addresses"), body, format="json")
    assert response.status_code == 400
    assert "city" in response.json()["errors"]


def test_owner_reads_patches_and_deletes_others_get_404():
    owner, other = UserFactory(), UserFactory()
    address = Address.objects.create(user=owner, **{**NEW, "country": "US"})
    url = api(f"addresses/{address.pk}")
    intruder = client_for(other)
    assert intruder.get(url).status_code == 404
    assert intruder.patch(url, {"city": "X"}, format="json").status_code == 404
    assert intruder.delete(url).status_code == 404
    assert APIClient().get(url).status_code == 401

    client = client_for(owner)
    assert client.get(url).json()["city"] == "Arlington"
    response = client.patch(url, {"city": "Boston", "country": "DE"}, format="json")
    assert response.status_code == 200
    assert (response.json()["city"], response.json()["country"]) == ("Boston", "DE")
    assert client.delete(url).status_code == 204
    assert not Address.objects.exists()
