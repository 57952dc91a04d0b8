"""The SQLite adapter behind :mod:`storage.ports`.

``database`` owns the one connection: its settings, the migrations runner,
transactions (where driver errors become :mod:`storage.errors` and erasing
transactions checkpoint the WAL). The repositories (``members``, ``staff``,
``referrals``, ``notices``, ``audit``, ``content``) implement the ports;
``conditions`` holds the SQL fragments several of them share. ``integrity``,
``key_check``, ``rotation`` and ``backup`` are the operator's tools on the file.
Nothing outside this package imports sqlite3 or aiosqlite
(``tests/unit/test_architecture.py``).
"""
