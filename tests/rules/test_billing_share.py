"""The téléconsultation share against the cap (acts.md, billing.md: 20 %, psychiatry 40 %, the
médecin traitant's own patients left out), table-driven."""

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest

from telesante.billing import months
from telesante.billing.caps import CAPS, cap_for
from telesante.billing.share import (
    APPROACHING_MARGIN_POINTS,
    Activity,
    Level,
    activity_of,
    by_gp_of_record,
    share,
)
from telesante.billing.teleconsultation_rules import Facts, assess
from telesante.errors import Invalid

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("activity", "cap", "percent", "level"),
    [
        (Activity(0, 0, 0), 20, 0.0, Level.ok),  # nothing yet
        (Activity(0, 0, 120), 20, 0.0, Level.ok),
        (Activity(10, 0, 90), 20, 10.0, Level.ok),
        (Activity(1799, 0, 8201), 20, 18.0, Level.ok),  # 17.99 %: just under the warning line
        (Activity(18, 0, 82), 20, 18.0, Level.approaching),  # exactly cap - 2 points
        (Activity(19, 0, 81), 20, 19.0, Level.approaching),
        (Activity(20, 0, 80), 20, 20.0, Level.approaching),  # at the cap is still within it
        (Activity(2001, 0, 7999), 20, 20.0, Level.over),  # 20.01 %
        (Activity(25, 0, 75), 20, 25.0, Level.over),
        (Activity(5, 0, 0, ("2026-11",)), 20, 100.0, Level.over),  # nothing declared: TLC only
        (Activity(30, 0, 70), 40, 30.0, Level.ok),  # psychiatry: 40 %
        (Activity(38, 0, 62), 40, 38.0, Level.approaching),
        (Activity(40, 0, 60), 40, 40.0, Level.approaching),
        (Activity(41, 0, 59), 40, 41.0, Level.over),
        # The médecin traitant's own patients are activity, but not counted towards the cap.
        (Activity(10, 50, 40), 20, 10.0, Level.ok),
        (Activity(0, 30, 0), 20, 0.0, Level.ok),
        (Activity(18, 10, 72), 20, 18.0, Level.approaching),
    ],
)
def test_share_and_warning_level(activity: Activity, cap: int, percent: float, level: Level) -> None:
    found = share(activity, cap)
    assert (found.percent, found.cap_percent, found.level) == (percent, cap, level)


def test_the_warning_starts_two_points_under_the_cap() -> None:
    assert APPROACHING_MARGIN_POINTS == 2


@pytest.mark.parametrize(
    ("activity", "cap", "says"),
    [
        (Activity(1, 0, 99), 20, []),
        (
            Activity(19, 0, 81),
            20,
            [
                "Attention : votre part de téléconsultation approche du plafond de 20 % "
                "de votre activité annuelle."
            ],
        ),
        (Activity(39, 0, 61), 40, ["approche du plafond de 40 %"]),
        (Activity(3, 0, 7), 20, ["dépasse le plafond de 20 %"]),
        (Activity(5, 0, 0, ("2026-11",)), 20, ["dépasse le plafond", "11/2026", "Déclarez votre activité"]),
        (Activity(0, 4, 0, ("2026-10",)), 20, ["10/2026", "Déclarez votre activité"]),
    ],
)
def test_messages(activity: Activity, cap: int, says: list[str]) -> None:
    message = share(activity, cap).message
    assert all(part in message for part in says)
    assert bool(message) is bool(says)


def test_a_period_sums_its_months_and_names_the_undeclared_ones() -> None:
    tlc = {"2026-01": (4, 1), "2026-02": (0, 0), "2026-03": (2, 0), "2026-05": (0, 3)}
    declared = {"2026-01": 40, "2026-02": 30, "2026-04": 0}
    year = activity_of(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"], tlc, declared)
    assert year == Activity(6, 4, 70, ("2026-03", "2026-05"))
    assert activity_of(["2026-02"], tlc, declared) == Activity(0, 0, 30, ())
    assert activity_of(["2026-04"], tlc, declared) == Activity(0, 0, 0, ())  # declared 0 is declared


def _rules(**facts: object) -> list[dict[str, object]]:
    base = {
        "on": TODAY,
        "video_held": True,
        "specialty": "Médecine générale",
        "is_gp_of_record": True,
        "referred_by_gp": False,
        "has_gp": True,
        "patient_age": 45,
        "known_patient": True,
    }
    return [asdict(r) for r in assess(Facts(**{**base, **facts})).rules]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "left_out"),
    [
        ({}, True),  # the médecin traitant with their own patient
        ({"is_gp_of_record": False, "referred_by_gp": True}, False),  # a referred patient counts
        ({"is_gp_of_record": False, "patient_age": 10, "known_patient": False}, False),  # an exception counts
        ({"is_gp_of_record": False}, False),  # out of the pathway still counts
        ({"video_held": False}, True),  # the parcours is still the médecin traitant's
    ],
)
def test_the_line_rules_tell_the_gp_own_patients(facts: dict[str, object], left_out: bool) -> None:
    assert by_gp_of_record(_rules(**facts)) is left_out


@pytest.mark.parametrize(
    ("specialty", "on", "percent", "excludes_gp"),
    [
        ("Médecine générale", TODAY, 20, True),
        ("Psychiatrie", TODAY, 40, True),
        (" psychiatrie ", TODAY, 40, True),
        ("Neuropsychiatrie", TODAY, 40, True),
        ("Cardiologie", TODAY, 20, True),
        (None, TODAY, 20, True),
        ("Psychiatrie", date(2024, 6, 22), 40, True),  # convention 2024 (JO 21 June 2024)
        ("Psychiatrie", date(2024, 6, 21), 20, False),  # avenant 9: 20 % for all, MT's TLC counted
        ("Médecine générale", date(2022, 4, 1), 20, False),
    ],
)
def test_caps_are_dated(specialty: str | None, on: date, percent: int, excludes_gp: bool) -> None:
    cap = cap_for(specialty, on)
    assert (cap.percent, cap.excludes_gp_own_patients) == (percent, excludes_gp)
    assert cap.source


def test_no_cap_before_avenant_9() -> None:
    with pytest.raises(LookupError):
        cap_for("Médecine générale", date(2021, 1, 1))


def test_every_day_has_one_general_cap() -> None:
    general = [c for c in CAPS if c.specialties is None]
    day, last = date(2021, 9, 23), date(2030, 1, 1)
    while day < last:
        assert sum(c.valid_from <= day and (c.valid_to is None or day <= c.valid_to) for c in general) == 1
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        ("2026-11", datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)),  # CET
        ("2026-07", datetime(2026, 6, 30, 22, tzinfo=UTC), datetime(2026, 7, 31, 22, tzinfo=UTC)),  # CEST
        ("2026-12", datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_months_are_paris_calendar_months(month: str, start: datetime, end: datetime) -> None:
    assert months.bounds(month) == (start, end)
    assert months.month_of(start) == month and months.month_of(end - timedelta(seconds=1)) == month


@pytest.mark.parametrize(
    "month", ["2026-13", "2026-00", "26-11", "2026-1", "٢٠٢٦-١١", "9999-12", "0001-01", ""]
)
def test_a_bad_month_is_refused(month: str) -> None:
    with pytest.raises(Invalid) as refused:
        months.first_day(month)
    assert refused.value.errors[0]["field"] == "month"


def test_the_year_to_date_starts_in_january() -> None:
    assert months.year_to("2026-03") == ["2026-01", "2026-02", "2026-03"]
    assert months.year_to("2026-01") == ["2026-01"]
