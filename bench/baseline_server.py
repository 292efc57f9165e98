"""The ceiling: bare Tornado with no auth, no store and no game, measured by the same clients.

`POST /bare/` parses the JSON body with orjson and answers `{}`; `/bare/ws` sends one frame on open
and echoes every message. With --uvloop it runs on uvloop's event loop, as our server does by default,
so the loop's share of a difference can be told from our code's.
Usage: python bench/baseline_server.py PORT [--uvloop]
"""

import asyncio
import sys

import orjson
import tornado.web
import tornado.websocket


class BareJSONHandler(tornado.web.RequestHandler):
    """Parse the same JSON body the token endpoints get, answer `{}`."""

    def check_xsrf_cookie(self) -> None:
        pass

    def post(self):
        orjson.loads(self.request.body)
        self.set_header("Content-Type", "application/json")
        self.finish(b"{}")


class BareSocketHandler(tornado.websocket.WebSocketHandler):
    """One frame on open (as our `welcome`), then echo."""

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self):
        self.write_message(b'{"event":"welcome"}')

    def on_message(self, message):
        self.write_message(message)


async def main(port: int) -> None:
    app = tornado.web.Application([(r"/bare/", BareJSONHandler), (r"/bare/ws", BareSocketHandler)],
                                  log_function=lambda handler: None)
    app.listen(port, "127.0.0.1")
    print(f"baseline listening on {port}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop

        uvloop.run(main(int(sys.argv[1])))
    else:
        asyncio.run(main(int(sys.argv[1])))
