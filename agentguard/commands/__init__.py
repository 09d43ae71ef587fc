"""One module per command. The click group is in app.py, imported only off the hot path."""
