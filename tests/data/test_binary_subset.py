"""`binary_subset`: two classes as flat features and +1/-1 targets."""

import numpy as np
import pytest

import repro.data
from repro.core.errors import UserError


def test_digits_two_versus_seven(digits_dir):
  data = repro.data.load("digits", "train", data_dir=digits_dir)
  x, y = repro.data.binary_subset(data, class_pos=2, class_neg=7)
  keep = (data["label"] == 2) | (data["label"] == 7)
  assert x.shape == (keep.sum(), 64) and x.dtype == np.float32
  assert y.shape == (keep.sum(),) and y.dtype == np.float32
  np.testing.assert_array_equal(x, data["image"][keep].reshape(-1, 64))
  np.testing.assert_array_equal(y == 1, data["label"][keep] == 2)
  np.testing.assert_array_equal(y == -1, data["label"][keep] == 7)


def test_hand_case():
  data = {
    "image": np.arange(8, dtype=np.float32).reshape(4, 1, 2, 1),
    "label": np.array([3, 1, 0, 1], dtype=np.int32),
  }
  x, y = repro.data.binary_subset(data, class_pos=0, class_neg=1)
  np.testing.assert_array_equal(x, [[2, 3], [4, 5], [6, 7]])
  np.testing.assert_array_equal(y, [-1, 1, -1])


@pytest.mark.parametrize("pos, neg", [(1, 1), (1, 5)])
def test_bad_classes_are_user_errors(pos, neg):
  data = {"image": np.zeros((2, 1, 1, 1)), "label": np.array([0, 1])}
  with pytest.raises(UserError):
    repro.data.binary_subset(data, class_pos=pos, class_neg=neg)
