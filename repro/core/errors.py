"""The error type for user mistakes: printed in one line, exit code 2."""


class UserError(Exception):
  """A mistake the user can fix (bad flag, missing data, diverged run).

  The message is one line that says what went wrong and what to do. The
  launcher prints it without a traceback and exits with code 2.
  """
