"""The HTTP edge: what every request and socket meets before an endpoint does.

The server's limits and deadlines (`server`), request ids and the access log, throttles, browser
origins, how an authentication failure becomes a 401 or a close code, pings for every socket and the
frames written to them. Endpoints (handlers/) use these; the arena wires the stateful ones.
"""
