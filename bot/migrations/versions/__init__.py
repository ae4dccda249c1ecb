"""The revisions, oldest first; each file is frozen once released (never edit a shipped revision)."""
