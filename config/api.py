"""API-wide plumbing: pagination and the one place business errors become HTTP answers.

Owned by the JSON API; placeholder bodies are replaced there.
"""

from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def exception_handler(exc, context):
    return drf_exception_handler(exc, context)
