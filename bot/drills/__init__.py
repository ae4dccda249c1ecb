"""bot.drills: restore drills (an export imported into a tagged throwaway table and proved)."""
