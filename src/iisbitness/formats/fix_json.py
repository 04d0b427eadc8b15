"""``iisbitness fix --format json``: the plan (and, with ``--apply``, what was written) as the document
``iisbitness/fix/1`` (``formats/schema/fix-1.json`` is the contract; docs/fix.md describes it)::

    {"schema": "iisbitness/fix/1", "image", "applied": false, "plan_id": "9d7f53d06c0c" | null,
     "chosen": [{"fix": 8, "finding": 1, "rule", "pool", "site", "application", "summary", "commands", "powershell",
                 "note"}],
     "cleared": [1, 3], "left": [{"finding", "rule", "reason"}],
     "commands": [...], "powershell": [...],
     "changes": [{"file", "changes": [...], "diff"}],
     "written": [{"file", "backup"}], "second_scan": {"findings": 12, "targeted_left": 0} | null,
     "coverage": {"complete", "checked", "partly_checked", "not_checked", "applications": [...]},
     "side_effects": [{"kind", "pool", "process", "name", "security", ...}], "security_warning": "..."}

Findings are numbered from 1 in the order of ``scan --format json``; ``fix`` is the fix's number as ``scan``
shows it (``[8]``, ``fix --fix 8``). ``coverage`` is the scan's, as ``scan --format json`` writes it
(:func:`iisbitness.formats.scan_json.coverage_dict`): a plan over applications that were not read is no
all-clear for them. ``plan_id`` is the id the text dry run prints (:attr:`iisbitness.scan.fix.FixPlan.plan_id`), for
``fix --apply --plan ID``; null when there is nothing to write. Both were added to ``iisbitness/fix/1`` without a new
schema id (added keys; none changed), as were ``unreported`` and ``shared_config`` (present only when the file changed
is a web farm's shared configuration, which every node using it runs: the folder redirection.config names), and
``side_effects``: what the chosen fixes together change besides the findings (the load plans before and after
compared, as the text's "Side effects" lists them), each as ``scan --format json`` writes a fix's side effect
(``security``: a security module or filter taken out), with ``security_warning``, the sentence the text's WARNING
line says, present only when one is. Reads only the plan.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from iisbitness.fixes.write import Written
from iisbitness.formats.causes import security_warning, view
from iisbitness.formats.fix_text import unified_diff
from iisbitness.formats.scan_json import coverage_dict, effect_dict
from iisbitness.model.iis7 import without_secrets
from iisbitness.scan.fix import FixPlan

SCHEMA_ID = "iisbitness/fix/1"


def render(plan: FixPlan, applied: bool, written: Sequence[Written] = (),
           second_scan: tuple[int, int] | None = None) -> str:
    """The document, indented, ending in a newline; ``second_scan``: ``(findings, targeted findings left)``."""
    return json.dumps(to_document(plan, applied, written, second_scan), indent=2, ensure_ascii=False) + "\n"


def to_document(plan: FixPlan, applied: bool, written: Sequence[Written] = (),
                second_scan: tuple[int, int] | None = None) -> dict[str, Any]:
    """The document as Python data."""
    v = view(plan.report)
    return {
        "schema": SCHEMA_ID, "image": plan.report.server.image, "applied": applied,
        "plan_id": plan.plan_id if plan.changes else None,
        "chosen": [{"fix": v.number(c.fix), "finding": c.number, "rule": c.finding.rule, "pool": c.finding.pool, "site": c.finding.site,
                    "application": c.finding.application, "summary": c.fix.summary, "commands": list(c.fix.commands),
                    "powershell": list(c.fix.powershell), "note": c.fix.note} for c in plan.chosen],
        "cleared": list(plan.cleared),
        "left": [{"finding": x.number, "rule": x.finding.rule, "reason": x.reason} for x in plan.left],
        "commands": list(plan.commands), "powershell": list(plan.powershell),
        "changes": [{"file": ch.shown, "changes": [without_secrets(c) for c in ch.changes], "diff": unified_diff(ch)} for ch in plan.changes],
        "written": [{"file": w.shown, "backup": w.backup.name} for w in written],
        "second_scan": None if second_scan is None else {"findings": second_scan[0], "targeted_left": second_scan[1]},
        "coverage": coverage_dict(plan.report),
        # NOTE: added within fix/1: the text's "Side effects" and its WARNING line (absent from documents before it)
        "side_effects": [effect_dict(e) for e in plan.side_effects],
        **({"security_warning": w} if (w := security_warning(plan.side_effects)) else {}),
        # NOTE: only with a selection that left findings out (added within fix/1): other documents are as before
        **({"unreported": dict(Counter(plan.report.unreported))} if plan.report.unreported else {}),
        # NOTE: only for a web farm's shared configuration (added within fix/1): every server using it runs the change
        **({"shared_config": plan.report.server.shared_config} if plan.report.server.shared_config else {}),
    }
