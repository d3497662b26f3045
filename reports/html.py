"""The self-contained HTML report: view models, the per-sample payload, and rendering.

One file, readable offline and safe with untrusted model text:

- Jinja2 with autoescape and `StrictUndefined` (a missing value is an error, not a
  blank cell);
- CSS, SVG charts and vanilla JavaScript inline; no CDN, no fonts, no images;
- a Content-Security-Policy meta tag that forbids every network request and lets only
  the one inline script run, by its SHA-256 (no `'unsafe-inline'`: a future escaping slip
  that let model text become a script could not execute);
- data for the per-sample drill-down embedded as JSON (HTML-escaped like `|tojson`), or
  gzip + base64 when it is large, decoded in the browser with `DecompressionStream`;
  the script renders model text with `textContent` only.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from reports.frames import Frames

# `{script}` is the source of the page's one inline script, as `script_hash` gives it.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src {script}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
# Above this many bytes of JSON the drill-down payload is embedded gzip-compressed.
COMPRESS_ABOVE = 2_000_000
TRUNCATION = "\n… [{count:,} more characters; see the Inspect log]"
ANSWER_CHARS = 120  # an extracted answer is shown as a chip
# Beside this module (not importlib.resources: it must work from an editable install too).
TEMPLATES = Path(__file__).parent / "templates"


def json_safe(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def truncate(text: str | None, limit: int) -> str | None:
    """Text cut to `limit` characters with a note saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + TRUNCATION.format(count=len(text) - limit)


def drilldown(frames: Frames, analysis: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """Per-sample data for the browser: inputs, every model's output, values, flags.

    A paired task has one entry per item with every model's output side by side. An
    independent-samples task has one entry per model and item (`s`: the model's index),
    listed model by model: the same sample id in two logs need not be the same item, so
    they are never shown side by side.
    """
    models = analysis["models"]
    measures_by_task: dict[str, list[str]] = {}
    for info in analysis["measures"]:
        measures_by_task.setdefault(info["task"], []).append(info["key"])
    # Accuracy-like measures first: they drive "discordant" by default.
    kinds = {info["key"]: info for info in analysis["measures"]}
    for keys in measures_by_task.values():
        keys.sort(key=lambda k: (kinds[k]["judged"], kinds[k]["kind"] != "binary", k))
    values: dict[tuple[str, str, str], dict[str, float]] = {}
    items = frames.items
    for row in items.itertuples(index=False):
        values.setdefault((row.label, row.task, row.sample_id), {})[
            f"{row.task}/{row.scorer}/{row.metric}"
        ] = row.value
    flags = (
        {
            (r.label, r.task, r.sample_id): (bool(r.format_failure), list(r.unscored))
            for r in frames.samples[frames.samples.epoch == 1].itertuples(index=False)
        }
        if not frames.samples.empty
        else {}
    )

    def model_view(model: str, task: str, sample_id: str) -> tuple[Any, Any]:
        """One model's values (in the task's measure order) and output on one item."""
        found = values.get((model, task, sample_id))
        keys = measures_by_task.get(task, [])
        row = None if found is None else [json_safe(found.get(k)) for k in keys]
        output = frames.outputs.get((model, task, sample_id))
        if output is None:
            return row, None
        failure, unscored = flags.get((model, task, sample_id), (False, []))
        return row, {
            "x": truncate(output["output"], max_chars),
            "a": {
                scorer: truncate(answer, ANSWER_CHARS)
                for scorer, answer in output["answers"].items()
                if answer.strip() != output["output"].strip()
            },
            "r": {k: truncate(v, max_chars) for k, v in output["rationales"].items()},
            "why": output["reasons"],
            "ff": failure,
            "u": unscored,
            "e": output["error"],
        }

    def entry(task: str, sample_id: str, text: dict[str, Any]) -> dict[str, Any]:
        return {
            "t": task,
            "id": sample_id,
            "in": truncate(text["input"], max_chars),
            "tg": text["target"],
            "ch": text["choices"],
        }

    entries = []
    for (task, sample_id), text in sorted(frames.texts.items()):
        views = [model_view(model, task, sample_id) for model in models]
        entries.append(
            entry(task, sample_id, text)
            | {"v": [row for row, _ in views], "o": [output for _, output in views]}
        )
    order = {model: index for index, model in enumerate(models)}
    for (label, task, sample_id), text in sorted(
        frames.side_texts.items(), key=lambda kv: (kv[0][1], order[kv[0][0]], kv[0][2])
    ):
        side = order[label]
        row, output = model_view(label, task, sample_id)
        entries.append(
            entry(task, sample_id, text)
            | {
                "s": side,
                "v": [row if i == side else None for i in range(len(models))],
                "o": [output if i == side else None for i in range(len(models))],
            }
        )
    entries.sort(key=lambda e: e["t"])  # stable: tasks in order, each task's items as built
    return {
        "models": models,
        "tasks": {
            task: {
                "measures": measures_by_task.get(task, []),
                "design": frames.designs.get(task, "paired"),
            }
            for task in sorted(set(measures_by_task) | {e["t"] for e in entries})
        },
        "measures": {
            info["key"]: {"label": info["label"], "kind": info["kind"], "metric": info["metric"]}
            for info in analysis["measures"]
        },
        "items": entries,
    }


def embed(payload: dict[str, Any]) -> dict[str, Any]:
    """Payload text for a `<script type="application/json">` element, compressed when large."""
    text = json.dumps(json_safe(payload), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode("utf-8")) <= COMPRESS_ABOVE:
        return {
            "encoding": "json",
            "content": htmlsafe_json_dumps(
                json_safe(payload), sort_keys=True, separators=(",", ":")
            ),
        }
    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    return {"encoding": "gzip+base64", "content": Markup(base64.b64encode(packed).decode("ascii"))}


# ----------------------------------------------------------------------------- formatting


def fmt_value(value: float | None, kind: str) -> str:
    """A mean: percent for binary measures, three decimals otherwise."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value * 100:.1f}%" if kind == "binary" else f"{value:.3f}"


def fmt_diff(value: float | None, kind: str) -> str:
    """A difference: percentage points for binary measures (never "-0")."""
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value * 100:+.1f} pp" if kind == "binary" else f"{value:+.3f}"
    return (
        "+" + text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text
    )


def fmt_p(value: float | None) -> str:
    """A p-value as readers expect it."""
    if value is None or not math.isfinite(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_p_eq(value: float | None) -> str:
    """`p = 0.012` or `p < 0.001`."""
    text = fmt_p(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def stars(value: float | None) -> str:
    """Significance stars of an adjusted p-value."""
    if value is None or not math.isfinite(value):
        return ""
    return "***" if value < 0.001 else "**" if value < 0.01 else "*" if value < 0.05 else ""


def fmt_num(value: Any, digits: int = 3) -> str:
    """Any number, or a dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def fmt_rate(value: float | None) -> str:
    """A rate as a percentage."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value * 100:.1f}%"


def diverging(value: float, scale: float) -> str:
    """Background colour for a signed value: blue above zero, orange below."""
    if not math.isfinite(value) or scale <= 0:
        return "#ffffff"
    t = min(abs(value) / scale, 1.0)
    base = (0, 114, 178) if value > 0 else (213, 94, 0)
    r, g, b = (round(255 + (c - 255) * t * 0.55) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def sequential(value: float) -> str:
    """Background colour for an agreement coefficient (0 white .. 1 green)."""
    if value is None or not math.isfinite(value):
        return "#ffffff"
    t = min(max(value, 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t * 0.6) for c in (0, 158, 115))
    return f"#{r:02x}{g:02x}{b:02x}"


def environment() -> Environment:
    """The Jinja environment: autoescape everywhere, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    filters: dict[str, Callable[..., str]] = {
        "value": fmt_value,
        "diff": fmt_diff,
        "p": fmt_p,
        "stars": stars,
        "num": fmt_num,
        "rate": fmt_rate,
        "diverging": diverging,
        "sequential": sequential,
    }
    env.filters.update(filters)
    return env


def asset(name: str) -> Markup:
    """A static CSS or JS file from the templates folder, inlined verbatim."""
    return Markup((TEMPLATES / name).read_text(encoding="utf-8"))


def script_hash(script: str) -> str:
    """A CSP source for one inline script: `'sha256-<base64 of its UTF-8 digest>'`."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def render(context: dict[str, Any]) -> str:
    """The report page for a prepared context (see `reports.view.page`)."""
    template = environment().get_template("report.html.j2")
    script = asset("report.js")
    csp = CSP.format(script=script_hash(str(script)))
    return template.render(**context, csp=csp, css=asset("report.css"), js=script)
