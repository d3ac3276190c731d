from tests.access.support import client, issuer

__all__ = ["client", "issuer"]
