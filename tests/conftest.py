"""Settings shared by every test module."""

from hypothesis import HealthCheck, settings

# Property tests check outcomes, never speed: on a busy 2-core CI machine an
# example can take longer than Hypothesis' default 200 ms deadline, and a
# deadline failure there would be a timed assertion in disguise.
settings.register_profile(
    "wifimon",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("wifimon")
