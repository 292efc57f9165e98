"""The browser client's files, with the page's security headers, and errors as JSON like the API's."""

from typing import Optional

import orjson
import tornado.web

from edge.request_ids import HEADER, request_id

# The page loads only its own scripts, styles and sockets, and no other site may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class StaticHandler(tornado.web.StaticFileHandler):
    def initialize(self, path: str, default_filename: Optional[str] = None, trust_proxy: bool = False) -> None:
        super().initialize(path, default_filename)
        self.set_header(HEADER, request_id(self.request, trust_proxy))

    def set_default_headers(self) -> None:
        for name, value in PAGE_HEADERS.items():
            self.set_header(name, value)
        if hasattr(self.request, "arena_request_id"):  # after an error cleared the headers
            self.set_header(HEADER, self.request.arena_request_id)

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps({"detail": "Not found." if status_code == 404 else self._reason}))
