"""shop 0003: emails become unique whatever their case, and the migration refuses to run
(changing nothing) while accounts differ only in letter case."""

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("shop", "0002_cart")]
AFTER = [("shop", "0003_user_email_case_insensitive_unique")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_names_accounts_that_differ_only_in_case_and_changes_nothing():
    User = migrate(BEFORE).get_model("shop", "User")
    try:
        ann = User.objects.create(email="ann@example.com")
        ann_upper = User.objects.create(email="ANN@example.com")
        User.objects.create(email="bob@example.com")

        with pytest.raises(CommandError) as refused:
            migrate(AFTER)

        message = str(refused.value)
        assert f"ann@example.com (id {ann.pk}), ANN@example.com (id {ann_upper.pk})" in message
        assert "bob@example.com" not in message
        assert "Nothing was changed." in message
        assert sorted(User.objects.values_list("email", flat=True)) == [
            "ANN@example.com",
            "ann@example.com",
            "bob@example.com",
        ]
        applied = MigrationExecutor(connection).loader.applied_migrations
        assert AFTER[0] not in applied

        # Once the owner of the shop has merged them, it runs.
        User.objects.filter(pk=ann_upper.pk).delete()
        migrate(AFTER)
    finally:
        User.objects.all().delete()
        # Leave the schema as the other tests expect it: every app's latest migration
        # (going back to 0002 unapplied shop's later ones too).
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
