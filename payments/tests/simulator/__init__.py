"""The offline Stripe simulator (payments.simulator), driven through the official stripe SDK
(no database needed). The fixtures are in conftest.py, the shared helpers in helpers.py."""
