"""bot.verification: export verification without restoring (manifests, checksums, every line)."""
