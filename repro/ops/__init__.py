"""Pure functions shared by studies: losses, attacks, metrics, references."""
