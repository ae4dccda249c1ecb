"""Retention of backups: what the buckets' lifecycle rules keep, proposals that implement a retention, and early
deletion approved by a second person."""
