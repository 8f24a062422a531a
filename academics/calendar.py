"""The institution's working calendar: weekdays that are neither a South African public holiday
(from the `holidays` library, with a holiday on a Sunday observed on the Monday) nor one of the
institution's closures. Schedules skip what it does not count; deadlines count in its days."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

import holidays

from academics.models import Closure

ONE_DAY = datetime.timedelta(days=1)


@dataclass
class WorkingCalendar:
    """Build one per request or task (working_calendar): it reads the closures once."""

    closures: list[tuple[datetime.date, datetime.date, str]]
    _public: holidays.HolidayBase = field(
        default_factory=lambda: holidays.country_holidays("ZA", observed=True)
    )

    def day_off(self, day: datetime.date) -> str:
        """Why `day` is not worked ("Youth Day", "Winter recess", "Saturday"), or ""."""
        public = self._public.get(day)
        if public:
            return str(public)
        for starts_on, ends_on, name in self.closures:
            if starts_on <= day <= ends_on:
                return name
        if day.weekday() >= 5:
            return day.strftime("%A")
        return ""

    def is_working_day(self, day: datetime.date) -> bool:
        return not self.day_off(day)

    def days_off_between(
        self, first: datetime.date, last: datetime.date
    ) -> Iterator[tuple[datetime.date, str]]:
        """The holidays and closures from `first` to `last` (weekends left out)."""
        day = first
        while day <= last:
            reason = self.day_off(day)
            if reason and day.weekday() < 5:
                yield day, reason
            day += ONE_DAY

    def add_working_days(self, start: datetime.date, days: int) -> datetime.date:
        """The working day `days` working days after `start` (`start` itself not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day


def working_calendar() -> WorkingCalendar:
    """The current institution's calendar."""
    return WorkingCalendar(
        closures=list(Closure.objects.values_list("starts_on", "ends_on", "name"))
    )
