from tests.reports.evidence_support import evidence_world  # noqa: F401 (a fixture for these tests)
from tests.signing.conftest import unique_ip  # noqa: F401 (a fixture for these tests)
from tests.tsa import tsa  # noqa: F401 (a fixture for these tests)
