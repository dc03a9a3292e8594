"""A streamed response that closes its body however it ends: the API's and the console's CSV exports."""

from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class ClosingStreamingResponse(StreamingResponse):
    """Closes its body however the response ends, a client gone mid-stream included, so that what the body
    holds (an export's heavy-read turn) is given back at once rather than whenever the garbage collector runs."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()
