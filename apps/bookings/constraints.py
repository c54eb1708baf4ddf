"""The PostgreSQL-only constraints of the bookings app, by name.

They are created by migrations 0002 and 0004 (SQLite has no exclusion constraints, so they cannot live in
the models' Meta, which every database builds). The services recognise a violation by its
constraint name and answer 409.
"""

PROVIDER_OVERLAP = "bookings_booking_provider_no_overlap"
CUSTOMER_OVERLAP = "bookings_booking_customer_no_overlap"
HOURS_OVERLAP = "bookings_hours_no_overlap"


def violated_constraint(exc: Exception) -> str | None:
    """The name of the constraint an IntegrityError from PostgreSQL reports, if any."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


EXCEPTION_OVERLAP = "bookings_exception_no_overlap"
# Not PostgreSQL-only (it is in the model's Meta), but recognised the same way.
EXCEPTION_ONE_PER_START = "bookings_exception_one_per_start"
