from rest_framework.metadata import BaseMetadata


class EndpointMetadata(BaseMetadata):
    """What `OPTIONS` says about an endpoint: its name, description and media types.

    DRF's SimpleMetadata also describes the fields of PUT and POST bodies, from the view's
    `serializer_class`. Here that is wrong or fatal: many actions validate with a serializer of
    their own (a role is created from RoleWriteSerializer, not RoleSerializer), and a ViewSet with
    none (sign-in, tokens) made every OPTIONS a 500. Request bodies are described once, correctly,
    in the OpenAPI schema at /api/schema/; the methods are in the `Allow` header.
    """

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
