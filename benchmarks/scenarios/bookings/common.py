"""What the bookings scenario is called, and the environment its stack runs with."""

NAME = "bookings"
SUMMARY = "booking creation at fixed rates (201s and 409s) and busy-day availability, beside users/me/"
# `python -m benchmarks --smoke`: a run of a few seconds that proves the scenario still works.
SMOKE = [
    "--providers", "6", "--customers", "2", "--rates", "4", "--duration", "1", "--availability-rate", "4",
    "--clients", "2", "--closed-duration", "0.5", "--rounds", "1", "--wait-idle", "0",
]  # fmt: skip

# Every request comes from one address and a few users: production's limits (120/minute anonymous,
# 1200/minute per user, 30 logins a minute per address) would answer most of them with 429. Raised;
# the throttles still run on every request, against Redis. The access tokens must outlive the run.
BENCH_ENV = {
    "THROTTLE_ANON_RATE": "1000000/second",
    "THROTTLE_USER_RATE": "1000000/second",
    "THROTTLE_LOGIN_RATE": "1000/minute",
    "JWT_ACCESS_TOKEN_MINUTES": "120",
}
PRODUCTION_THROTTLES = "anon 120/minute, user 1200/minute, login 30/minute"
ME = "/api/v1/users/me/"
ALIASES = ("default", "analytics", "logs")
