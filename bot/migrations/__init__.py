"""Alembic migrations of the bot's database: every schema change ships as a revision in versions/."""
