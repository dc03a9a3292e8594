"""The ops console: server-rendered pages for credit managers, signed in with an API key."""
