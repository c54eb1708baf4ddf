"""What the requests scenario is called and what it asks for: its request types, on our side and
the template's, and the environment its stack runs with."""

NAME = "requests"
SUMMARY = "user list/detail/me reads beside a plain-Django floor: req/s, latency, worker memory"
# `python -m benchmarks --smoke`: a run of a few seconds that proves the scenario still works. The deep
# page needs 8,000 users, hence not among its types.
SMOKE = [
    "--users", "50", "--types", "list1,detail,me", "--clients", "2", "--duration", "0.5", "--rate", "10",
    "--rounds", "1", "--rss-requests", "20", "--wait-idle", "0",
]  # fmt: skip

# Every request comes from one user at one address, so the general limits (120/minute anonymous,
# 1200/minute per user) would answer almost everything with 429. They are raised, and the
# throttles still run on every API request against Redis. Per-second windows: where the throttle
# is DRF's sliding window (a pickled list of one timestamp per request in the window, read and
# rewritten on each request, as at ef43124), the list then holds about one second of requests,
# not the tens of thousands a per-minute window would pile up at these rates (production's
# 1200/minute caps it at 1,200).
BENCH_THROTTLES = {
    "THROTTLE_ANON_RATE": "1000000/second",
    "THROTTLE_USER_RATE": "1000000/second",
    "THROTTLE_LOGIN_RATE": "1000/minute",
}
PRODUCTION_THROTTLES = "anon 120/minute, user 1200/minute, login 30/minute"
# The access token must outlive the run (production: 15 minutes).
BENCH_TOKEN_MINUTES = "120"
DEEP_PAGE = 400
PAGE_SIZE = 20
DEEP_OFFSET = (DEEP_PAGE - 1) * PAGE_SIZE
RSS_CHECKPOINT = 1000
SIDES = ("ours", "floor", "template")

TYPES = {
    "list1": "GET /api/v1/users/ (page 1: 20 rows + count)",
    "deep": f"GET /api/v1/users/?page={DEEP_PAGE} (OFFSET {DEEP_OFFSET})",
    "detail": "GET /api/v1/users/{id}/ (ids rotate over all users)",
    "me": "GET /api/v1/users/me/ (no floor: the floor has no signed-in user)",
}
# The template's request for each type (benchmarks/template.py builds them).
TEMPLATE_TYPES = {
    "list1": f"GET /api/v1/users/?skip=0&limit={PAGE_SIZE} (20 rows + count, newest first)",
    "deep": f"GET /api/v1/users/?skip={DEEP_OFFSET}&limit={PAGE_SIZE} (OFFSET {DEEP_OFFSET})",
    "detail": "GET /api/v1/users/{id} (UUIDs rotate over all users, same scattered order)",
    "me": "GET /api/v1/users/me",
}
