"""Numbered SQL migrations, ``NNNN_<name>.sql``, applied in order by :mod:`storage.database`.

The package exists so :mod:`importlib.resources` can find the files when the
project is installed. Keep the SQL portable: a PostgreSQL backend is planned.
"""

from __future__ import annotations
