"""shop.models.User: one account per address whatever its letter case, found by any case."""

import pytest
from django.db import IntegrityError, transaction

from shop.models import User, login_key

pytestmark = pytest.mark.django_db


def test_the_address_is_stored_as_typed_with_the_domain_in_lower_case():
    user = User.objects.create_user(email="Ann.Lee@Example.COM", password="x-long-passphrase")
    assert user.email == "Ann.Lee@example.com"


def test_the_database_refuses_an_address_that_differs_only_in_letter_case():
    User.objects.create_user(email="ann@example.com")

    with pytest.raises(IntegrityError, match="shop_user_email_ci_unique"), transaction.atomic():
        User.objects.create_user(email="ANN@example.com")

    assert User.objects.count() == 1


def test_sign_in_finds_the_account_whatever_the_letter_case():
    user = User.objects.create_user(email="Ann@example.com")

    for typed in ["Ann@example.com", "ann@example.com", "ANN@EXAMPLE.COM"]:
        assert User.objects.get_by_natural_key(typed) == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("anne@example.com")


def test_the_login_key_ignores_case_and_surrounding_space():
    assert login_key("  Ann@Example.com ") == "ann@example.com"
