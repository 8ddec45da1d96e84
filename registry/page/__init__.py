"""The renderings of a release: the page (index.html) and the text files beside it.

- render: index.html from the Jinja2 templates in templates/ (autoescaped), with the style sheet and
  scripts in static/;
- charts: the geometry of its inline SVG charts;
- self_check: the page's signed view and the data its in-browser check reads (page/v2);
- text: ranking.csv and ranking.md, and the cell texts the page shares with them;
- certainty: the text of rank certainty (verdicts, flags, captions), for every rendering and the terminal.

Nothing is imported here, so a module that needs one piece (the terminal's certainty text) pulls in no
other.
"""
