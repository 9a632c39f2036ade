"""The fault matrix's own arithmetic (bench/faults.py): when requests count as recovered,
and the table it prints. The matrix itself runs with `make faults`."""

from bench.faults import Record, format_table, request_recovery


def rec(started, status, kind="checkout"):
    return Record(started=started, phase="redis_down", kind=kind, status=status)


def test_recovery_is_the_last_failure_after_the_fault_once_requests_succeed_again():
    records = [rec(9.0, 500), rec(10.5, 500), rec(11.0, 201), rec(12.0, 201)]

    assert request_recovery(records, fault_end=10.0, now=12.0) is None  # not steady yet
    assert request_recovery(records, fault_end=10.0, now=12.5) == 0.5


def test_declines_and_sold_out_answers_are_not_failures():
    records = [rec(10.2, 402, kind="confirm"), rec(10.4, 409), rec(10.6, 201)]

    assert request_recovery(records, fault_end=10.0, now=12.0) == 0.0


def test_no_recovery_without_a_success_after_the_last_failure():
    records = [rec(10.2, 201), rec(11.0, "transport:ConnectError")]

    assert request_recovery(records, fault_end=10.0, now=20.0) is None


def test_the_table_names_each_broken_invariant():
    rows = [
        {
            "fault": "webhooks_lost",
            "requests": 12,
            "failures": {"500": 3},
            "recovered": False,
            "recovered_s": None,
            "settled_s": None,
            "invariants": {"ok": False, "succeeded_without_paid_order": 2},
            "late": {"paid_late": 0, "refunded": 1},
        }
    ]

    table = format_table(rows).splitlines()

    assert table[0].split() == [
        "fault", "requests", "failures", "by", "status", "recovered", "settled", "invariants",
        "late",
    ]  # fmt: skip
    assert table[2].split() == [
        "webhooks_lost", "12", "500x3", "NO", "-", "BROKEN", "succeeded_without_paid_order=2",
        "paid_late=0", "refunded=1",
    ]  # fmt: skip
