"""The HTTP edge: thin routers that validate, authorise and hand over to services."""
