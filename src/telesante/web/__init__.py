"""The French web UI: server-rendered Jinja2 pages, htmx where a page needs life."""
