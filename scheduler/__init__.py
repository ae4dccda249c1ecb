"""Scheduled exports: an APScheduler BackgroundScheduler rebuilt from the store."""
