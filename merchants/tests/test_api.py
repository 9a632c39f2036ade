"""POST merchants (apply) and POST merchants/{id}/approve (staff) as API.md says."""

import pytest

from core.tests.helpers import api, client_for, grant, make_user
from merchants.models import Merchant


@pytest.mark.django_db
def test_apply_answers_201_pending_and_409_the_second_time():
    client = client_for(make_user())
    response = client.post(api("merchants"), {"display_name": "Ann's Pottery"}, format="json")
    assert response.status_code == 201
    merchant = Merchant.objects.get()
    assert response.json() == {
        "id": merchant.pk,
        "display_name": "Ann's Pottery",
        "status": "pending",
    }

    again = client.post(api("merchants"), {"display_name": "Other"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_applied"
    assert Merchant.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"display_name": ""},
        {"display_name": "x" * 101},
        {"display_name": "A", "status": "approved"},
    ],
)
def test_apply_rejects_bad_input_with_400(body):
    response = client_for(make_user()).post(api("merchants"), body, format="json")
    assert response.status_code == 400
    assert Merchant.objects.count() == 0


@pytest.mark.django_db
def test_apply_needs_a_signed_in_user():
    assert (
        client_for().post(api("merchants"), {"display_name": "A"}, format="json").status_code == 401
    )


@pytest.mark.django_db
def test_staff_with_the_permission_approve():
    merchant = Merchant.objects.create(user=make_user(), display_name="Shop")
    url = api(f"merchants/{merchant.pk}/approve")

    customer = client_for(make_user()).post(url)
    assert (customer.status_code, customer.json()["code"]) == (403, "permission_denied")
    bare_staff = client_for(make_user(is_staff=True)).post(url)
    assert bare_staff.status_code == 403
    merchant.refresh_from_db()
    assert merchant.status == "pending"

    staff = grant(make_user(is_staff=True), "merchants.change_merchant")
    response = client_for(staff).post(url)
    assert response.status_code == 200
    assert response.json() == {"id": merchant.pk, "display_name": "Shop", "status": "approved"}
    assert client_for(staff).post(api("merchants/999999/approve")).status_code == 404


@pytest.mark.django_db
def test_the_display_name_limit_counts_what_is_sent():
    client = client_for(make_user())
    padded = client.post(api("merchants"), {"display_name": " " + "x" * 100}, format="json")
    assert padded.status_code == 400
    trimmed = client.post(api("merchants"), {"display_name": "  Lamps  "}, format="json")
    assert (trimmed.status_code, trimmed.json()["display_name"]) == (201, "Lamps")


@pytest.mark.django_db
@pytest.mark.parametrize("name", [0, True, None, ["A"], {"a": 1}])
def test_the_display_name_must_be_a_string(name):
    response = client_for(make_user()).post(api("merchants"), {"display_name": name}, format="json")
    assert response.status_code == 400
    assert Merchant.objects.count() == 0
