"""Bayesian inference shared by studies (HMC, VI, ensembles, predictive)."""
