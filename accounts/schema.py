"""How the OpenAPI schema describes device tokens."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.auth.DeviceTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A device token from POST /api/v1/auth/token/, sent as `Token <token>`; "
                "it expires after CARELINK_TOKEN_HOURS."
            ),
        }
