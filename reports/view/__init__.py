"""What the template shows: the analysis turned into tables of formatted cells and SVG charts.

All formatting and layout decisions live here, so the template is a set of loops and
the numbers in `report.json` and on the page come from the same dicts. `page` assembles
the whole context; each other module builds one section's part of it.
"""
