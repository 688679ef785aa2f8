"""Infrastructure every study uses; nothing paper-specific lives here."""
