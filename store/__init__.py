"""Persistence: the one package that talks to MongoDB (or to the embedded in-memory stand-in).

`connection` chooses the client, `database` holds the collections and every query, `documents`
the document shapes that other packages read and write, `embedded` the in-memory store.
"""
