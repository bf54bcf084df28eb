"""django-prodserver 3.0's API, kept in one place so that what was written for it runs unchanged.

`api` holds its backend base classes, `wrapper` runs such a backend under every command,
`kinds` is its `server`/`worker` split, `none_flags` its reading of `None` in ARGS, and
`utils` and `conf` its helpers. The modules at 3.0's own paths (`backends.servers.*`,
`backends.workers.*`, `backends.dev.*`, `utils`, `conf`, `apps.ProdserverAppConfig`) hand
these names on.
"""
