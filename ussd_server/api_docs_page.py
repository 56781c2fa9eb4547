"""A readable page of the OpenAPI description, rendered on the server (no CDN, no script)."""

from __future__ import annotations

import html
import json
from typing import Any

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.05rem;margin:1.6rem 0 .3rem;font-family:monospace}
.m{display:inline-block;min-width:3.5rem;padding:0 .3rem;border-radius:.2rem;color:#fff;
background:#555;text-align:center}.get{background:#2a6f97}.post{background:#3a7d44}
pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:12px}
td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
"""


def _schema(schema: Any) -> str:
    return f"<pre>{html.escape(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f'<h2><span class="m {method}">{method.upper()}</span> {html.escape(path)}</h2>',
        f"<p>{html.escape(op.get('summary', ''))}</p>",
    ]
    if op.get("security"):
        parts.append("<p>Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>")
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{p['in']}</td>"
            f"<td>{html.escape(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append(f"<table><tr><th>parameter</th><th>in</th><th></th></tr>{rows}</table>")
    for media, body in op.get("requestBody", {}).get("content", {}).items():
        parts.append(f"<p>Request body, <code>{html.escape(media)}</code>:</p>")
        parts.append(_schema(body.get("schema", {})))
    for status, answer in op.get("responses", {}).items():
        parts.append(f"<p><b>{status}</b> {html.escape(answer.get('description', ''))}</p>")
        for body in answer.get("content", {}).values():
            parts.append(_schema(body.get("schema", {})))
    return "\n".join(parts)


def render(document: dict[str, Any]) -> str:
    info = document["info"]
    sections = [
        _operation(path, method, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]
    schemas = "".join(
        f"<h2>{html.escape(name)}</h2>{_schema(schema)}"
        for name, schema in document["components"]["schemas"].items()
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(info['title'])} API</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(info['title'])}: HTTP API</h1><p>{html.escape(info['description'])}"
        f' The machine-readable description: <a href="openapi.json">openapi.json</a>.</p>'
        f"{''.join(sections)}<h1>Schemas</h1>{schemas}</body></html>"
    )
