"""The exceptions a user is meant to read, each tied to the system check that reports it."""


class ProdserverError(Exception):
    """A problem in the configuration or the environment that the user can fix.

    Its text is shown as it is, without a traceback: it names the process, what was
    wrong, and what to do about it.
    """

    check_id = "prodserver.E010"


class BackendImportError(ProdserverError):
    check_id = "prodserver.E004"


class MissingPackageError(ProdserverError):
    check_id = "prodserver.E007"


class OptionError(ProdserverError):
    check_id = "prodserver.E008"


class ApplicationError(ProdserverError):
    check_id = "prodserver.E009"


class BackendFailure(ProdserverError):
    """A backend's own code raised while it was constructed or planned."""

    check_id = "prodserver.E012"


class ProbeFailed(ProdserverError):
    """`prodserver --probe NAME`: the running process did not answer as a healthy one does."""
