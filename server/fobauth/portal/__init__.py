"""The bank portal: the customer's and the administrator's token screens, in Japanese and English.

``mount(app, service, api_key)`` serves it at "/" next to the JSON API; see docs/portal.md.
"""

from fobauth.portal.screens import create_portal, mount

__all__ = ["create_portal", "mount"]
