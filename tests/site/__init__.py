"""The local news site of the end-to-end tests and the benchmark: a real HTTP server on
127.0.0.1 imitating several Moroccan news outlets, with fixture articles written for it.

`manifest` loads the fixtures (the single source of truth), `server` serves them, `plugin`
exposes them to pytest. See fixtures/README.md for the fixture format.
"""
