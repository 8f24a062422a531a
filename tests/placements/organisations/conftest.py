from tests.placements.fake_geocoder import geocoder  # noqa: F401 (a fixture for these tests)
