"""The console's HTML: one layout, tables and forms, every value escaped. Pages are plain server-rendered
documents with their own small stylesheet: nothing is fetched from anywhere (the console works offline)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from html import escape
from urllib.parse import urlencode

NAV = (("/spend", "Spend"), ("/budgets", "Budgets and limits"), ("/calls", "Calls"), ("/tools", "Tools"),
       ("/memory", "Memory"), ("/keys", "Keys and agents"))

CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1c2330;background:#f4f6f9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;padding:.6rem 1rem;background:#1c2330;color:#fff}
header b{margin-right:.5rem}header a{color:#cfd8e6;text-decoration:none;padding:.2rem .1rem}
header a.on{color:#fff;border-bottom:2px solid #6ea8fe}header form{margin-left:auto}
header .who{color:#9fb0c6;font-size:12px}
main{padding:1rem;max-width:1240px;margin:0 auto}h1{font-size:1.3rem;margin:.2rem 0 .8rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:1.2rem 0 .5rem}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:.8rem;margin-bottom:1rem;overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef1f5;white-space:nowrap}
th{font-weight:600;color:#4a5567;background:#f8fafc}td.n,th.n{text-align:right}
tr.total td{font-weight:700;border-top:2px solid #c9d2de}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}.filters label{display:flex;flex-direction:column;font-size:12px}
input,select,button{font:inherit;padding:.3rem .45rem;border:1px solid #bcc6d3;border-radius:4px;background:#fff}
button{background:#2f6fde;color:#fff;border-color:#2f6fde;cursor:pointer}button.danger{background:#c0392b;border-color:#c0392b}
.muted{color:#6b778a}.warn{color:#b45309}.bad{color:#b91c1c;font-weight:600}.ok{color:#15803d}
.bar{height:10px;background:#e6ebf2;border-radius:5px;min-width:120px;position:relative;overflow:hidden}
.bar i{position:absolute;top:0;bottom:0;left:0;background:#2f6fde}.bar i.r{background:#f0a43a}
code{word-break:break-all}.secret{font-family:ui-monospace,monospace;background:#fff8db;padding:.5rem;word-break:break-all;display:block}
svg text{font-size:11px;fill:#4a5567}.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
@media (max-width:700px){main{padding:.5rem}header{padding:.5rem}th,td{padding:.25rem .35rem}
.filters label{flex:1 1 45%}h1{font-size:1.1rem}svg text{font-size:20px}}
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).quantize(Decimal('0.000001'))}"


def page(title: str, path: str, body: str, who: str = "", csrf: str | None = None) -> str:
    nav = "".join(f'<a href="{href}"{" class=on" if path.startswith(href) else ""}>{e(name)}</a>'
                  for href, name in NAV) if csrf else ""
    sign_out = (f'<span class="who">{e(who)}</span><form method="post" action="/logout">{csrf_field(csrf)}'
                '<button type="submit">Sign out</button></form>') if csrf else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{e(title)} · DAARION</title>'
            f'<style>{CSS}</style></head><body><header><b>DAARION console</b>{nav}{sign_out}</header>'
            f'<main><h1>{e(title)}</h1>{body}</main></body></html>')


def csrf_field(token: str | None) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = (),
          table_id: str = "", total: Sequence[str] | None = None) -> str:
    """`rows` hold HTML already escaped (cells may carry markup); `numeric` columns align right."""
    right = set(numeric)
    head = "".join(f'<th{" class=n" if i in right else ""}>{e(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in right else ""}>{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    foot = ("<tr class=total>" + "".join(f'<td{" class=n" if i in right else ""}>{c}</td>'
                                         for i, c in enumerate(total)) + "</tr>") if total else ""
    ident = f' id="{e(table_id)}"' if table_id else ""
    empty = "" if body else f'<tr><td colspan="{len(headers)}" class="muted">nothing yet</td></tr>'
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}{empty}{foot}</tbody></table>"


def select(name: str, options: Iterable[str], chosen: str | None, blank: str | None = "any") -> str:
    items = [f'<option value="">{e(blank)}</option>'] if blank is not None else []
    items += [f'<option value="{e(o)}"{" selected" if o == chosen else ""}>{e(o)}</option>' for o in options]
    return f'<label>{e(name)}<select name="{e(name)}">{"".join(items)}</select></label>'


def link(path: str, label: str, title: str = "", **query: str | None) -> str:
    params = {k: v for k, v in query.items() if v}
    hint = f' title="{e(title)}"' if title else ""
    return f'<a href="{e(path + ("?" + urlencode(params) if params else ""))}"{hint}>{e(label)}</a>'
