"""Right-to-left text: keep Latin fragments in their own direction.

Inside Uyghur text, a run such as ``CCF`` or ``/wipe`` or a URL would be
reordered by the bidi algorithm together with its neighbours; first-strong
isolates (U+2068 … U+2069) make each run render as a unit.
"""

from __future__ import annotations

import re

FSI = "\u2068"
PDI = "\u2069"

# A run starts and ends with a Latin letter or digit (or a leading slash for
# commands) and may contain spaces and ASCII punctuation between.
_LTR_RUN = re.compile(r"/?[A-Za-z0-9](?:[A-Za-z0-9 .,:;/_\-@+&'%?=#()]*[A-Za-z0-9/)%])?")


def _isolate(run: str) -> str:
    # "(CCF)": the run starts after the opening bracket, so its closing bracket
    # belongs outside the isolate too, or the pair would render mismatched.
    tail = ""
    while run.endswith(")") and run.count(")") > run.count("("):
        run, tail = run[:-1], ")" + tail
    return f"{FSI}{run}{PDI}{tail}"


def isolate_ltr(text: str) -> str:
    """Wrap each Latin run of an RTL text in an isolate; idempotent."""
    if FSI in text:
        return text
    return _LTR_RUN.sub(lambda match: _isolate(match.group(0)), text)
