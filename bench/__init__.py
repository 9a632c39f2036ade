"""The checkout benchmark (issue 7): raw SQL floor, Django service, HTTP API. See README.md."""
