# Email addresses become unique whatever their letter case (issue 13). Existing accounts
# that differ only in case cannot be merged automatically (each may have orders, a
# password, a history), so the migration stops and names them instead of changing data.
# CommandError: `migrate` prints its message alone, without a traceback.

import django.db.models.functions.text
from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_case_duplicates(apps, schema_editor):
    User = apps.get_model("shop", "User")
    duplicates = (
        User.objects.using(schema_editor.connection.alias)
        .annotate(email_lower=Lower("email"))
        .values("email_lower")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("email_lower", flat=True)
        .order_by("email_lower")
    )
    if not duplicates:
        return
    lines = []
    for email_lower in duplicates:
        accounts = (
            User.objects.using(schema_editor.connection.alias)
            .annotate(email_lower=Lower("email"))
            .filter(email_lower=email_lower)
            .order_by("pk")
        )
        lines.append(", ".join(f"{user.email} (id {user.pk})" for user in accounts))
    raise CommandError(
        "Cannot make email addresses unique regardless of letter case: these accounts "
        "share an address and differ only in case:\n  "
        + "\n  ".join(lines)
        + "\nMerge or rename them (keep one account per address), then migrate again. "
        "Nothing was changed."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("shop", "0002_cart"),
    ]

    operations = [
        migrations.RunPython(refuse_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                name="shop_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message="A user with this email address already exists.",
            ),
        ),
    ]
