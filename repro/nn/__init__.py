"""Flax (linen) modules shared by studies."""
