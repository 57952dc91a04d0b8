"""The template (``messages.pot``) of a content set: the program's messages plus its flows' texts.

The repository's template comes from ``pybabel extract`` over the program and
the flow files. A set published on the live desk has other flow texts than
the files the program shipped with, so its template is rebuilt: the program's
own messages (those without a ``msgctxt``; flow texts always carry one) from
the running program's template, then every text of the set's flows, as the
flow extractor would list them. Without this, texts the set no longer has
would count as "pending" in every catalog that dropped them, and texts it
added would be missing from the template a translator downloads.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.pofile import read_po, write_po

from flows.extract import extract_flows
from flows.merge import PO_WIDTH

DEFINITIONS_PATH = "flows/definitions"
"""Where flow files sit in the repository, for the template's source references."""


def set_template(program_template: str | None, flow_files: Mapping[str, str]) -> str:
    """The template for a set of ``flow_files`` run by a program whose template is given.

    Flow files must parse (build the set's registry first). The header is the
    program template's.
    """
    if program_template is not None:
        catalog = read_po(io.StringIO(program_template))
        for message in list(catalog):
            if message.id and message.context is not None:
                catalog.delete(message.id, context=message.context)
    else:
        catalog = BabelCatalog(project="Yardem", fuzzy=True)
    for name, text in flow_files.items():
        stream = io.BytesIO(text.encode("utf-8"))
        stream.name = name  # read by the extractor for its error messages
        for line, _, (context, msgid), comments in extract_flows(stream, (), (), {}):
            catalog.add(
                msgid,
                locations=[(f"{DEFINITIONS_PATH}/{name}", line)],
                auto_comments=comments,
                context=context,
            )
    output = io.BytesIO()
    write_po(output, catalog, width=PO_WIDTH)
    return output.getvalue().decode("utf-8")
