"""JSON API of the audit log (staff only, read only)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from audit.selectors import audit_events
from audit.serializers import AuditEventSerializer, AuditFilterSerializer
from core.api import StaffWithPermission, error_responses


class AuditEventListView(generics.ListAPIView):
    permission_classes = [StaffWithPermission("audit.view_auditevent")]
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        filters = AuditFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return audit_events(**filters.validated_data)

    @extend_schema(
        operation_id="audit_list",
        tags=["audit"],
        parameters=[
            OpenApiParameter("entity_type", str, description="e.g. order, product, inventory"),
            OpenApiParameter("entity_id", str),
            OpenApiParameter("action", str, description="e.g. order.cancel"),
        ],
        responses={200: AuditEventSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
