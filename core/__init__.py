"""The bottom layer every app may use: the error base, money helpers, domain events,
API plumbing and admin bases. It imports no app of the shop."""
