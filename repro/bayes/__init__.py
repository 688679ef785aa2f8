"""Bayesian inference shared by studies (HMC, VI, ensembles, predictive).

* ``network``: a Flax MLP with optional dropout and its parameters as one
  flat vector, the coordinates every sampler here works in.
* ``predictive``: the stable posterior predictive (log-BMA) and the
  uncertainty scores (predictive entropy, expected entropy, mutual
  information).
* ``hmc``: full-batch HMC with BlackJAX window adaptation, chains as a
  replica axis, acceptance rate and split R-hat.
* ``vi``: mean-field Gaussian VI with NumPyro SVI.
* ``dropout``: MC dropout predictions (fresh masks per draw).
* ``ensemble``: MAP training (one network or a deep ensemble) with a
  Gaussian prior.
"""
