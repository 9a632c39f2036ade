"""Make the wallet ledger append-only and chained in PostgreSQL itself.

- UPDATE and DELETE of an entry are always rejected; TRUNCATE only unless the session
  sets `wallets.allow_truncate = on`, which only the test suite does (as for the audit
  log, audit/migrations/0002).
- An INSERT must continue its wallet's chain: entry 1 starts at 0.00, entry n starts
  where entry n - 1 ended (its `balance_before` is that entry's `balance_after`).
  Together with the unique (wallet, sequence) and the CHECK balance_after =
  balance_before + amount, the database alone keeps every wallet's history a chain.
SQLite (development only) gets no trigger.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION wallets_ledger_reject_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('wallets.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'wallets_ledgerentry is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallets_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON wallets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallets_ledger_reject_change();

CREATE TRIGGER wallets_ledger_no_truncate
    BEFORE TRUNCATE ON wallets_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION wallets_ledger_reject_change();

CREATE FUNCTION wallets_ledger_check_chain() RETURNS trigger AS $$
DECLARE
    previous numeric;
BEGIN
    IF NEW.sequence = 1 THEN
        previous := 0;
    ELSE
        SELECT balance_after INTO previous FROM wallets_ledgerentry
            WHERE wallet_id = NEW.wallet_id AND sequence = NEW.sequence - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'wallet % has no ledger entry %', NEW.wallet_id, NEW.sequence - 1
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.balance_before <> previous THEN
        RAISE EXCEPTION 'ledger entry % of wallet % starts at %, the previous one ended at %',
            NEW.sequence, NEW.wallet_id, NEW.balance_before, previous
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallets_ledger_chain
    BEFORE INSERT ON wallets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallets_ledger_check_chain();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallets_ledger_chain ON wallets_ledgerentry;
DROP FUNCTION IF EXISTS wallets_ledger_check_chain();
DROP TRIGGER IF EXISTS wallets_ledger_no_truncate ON wallets_ledgerentry;
DROP TRIGGER IF EXISTS wallets_ledger_no_update_delete ON wallets_ledgerentry;
DROP FUNCTION IF EXISTS wallets_ledger_reject_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallets", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
