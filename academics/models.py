"""What the institution teaches (seed 004): faculties and departments (optional: a small
provider has programmes only), programmes and their courses with prerequisites, academic years
(seed 003) and academic sessions (seed 004), the grading scales results are graded on, and the
institution's own closures, which the working calendar (academics.calendar) adds to the public
holidays. Written only by academics.services."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

# A currency as ISO 4217 writes it; finance uses the same pair of amount and code.
CURRENCY_CODE = RegexValidator(
    r"^[A-Z]{3}$", "Give the currency as its three-letter ISO 4217 code, such as ZAR."
)


class DateRange(models.Func):
    """daterange(lower, upper, '[]'): both ends inclusive, for the no-overlap constraints."""

    function = "DATERANGE"
    output_field = DateRangeField()


def _inclusive(start: str, end: str) -> DateRange:
    return DateRange(models.F(start), models.F(end), models.Value("[]"))


class Faculty(models.Model):
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "faculties"
        permissions = [
            (
                "manage_catalogue",
                "Set up what the institution teaches: faculties, departments, programmes, "
                "courses and prerequisites, academic years and sessions, grading scales and the "
                "calendar's closures; import the catalogue from a spreadsheet.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    faculty = models.ForeignKey(Faculty, on_delete=models.PROTECT, related_name="departments")
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=50)
    head_of_department = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="departments_headed",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["faculty__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["faculty", "code"], name="department_code_unique_per_faculty"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GradingScale(models.Model):
    """Bands of percentage to symbol and grade points, and the pass mark. A programme may name
    its own; otherwise the default scale (exactly one once any exists) applies."""

    name = models.CharField(max_length=100, unique=True)
    pass_mark = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="The lowest percentage that passes.",
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="grading_scale_one_default",
            ),
            models.CheckConstraint(
                condition=models.Q(pass_mark__gte=0, pass_mark__lte=100),
                name="grading_scale_pass_mark_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GradeBand(models.Model):
    """From `min_percentage` up to the next band's: `symbol` and `grade_points`."""

    scale = models.ForeignKey(GradingScale, on_delete=models.CASCADE, related_name="bands")
    min_percentage = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    symbol = models.CharField(max_length=5)
    grade_points = models.DecimalField(max_digits=3, decimal_places=2)

    class Meta:
        ordering = ["scale", "-min_percentage"]
        constraints = [
            models.UniqueConstraint(
                fields=["scale", "min_percentage"], name="grade_band_unique_start"
            ),
            models.UniqueConstraint(fields=["scale", "symbol"], name="grade_band_unique_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} from {self.min_percentage}%"


class QualificationType(models.TextChoices):
    LEARNERSHIP = "learnership", "Learnership"
    SKILLS_PROGRAMME = "skills_programme", "Skills programme"
    OCCUPATIONAL_CERTIFICATE = "occupational_certificate", "Occupational certificate"
    NATIONAL_CERTIFICATE = "national_certificate", "National certificate"
    DIPLOMA = "diploma", "Diploma"
    DEGREE = "degree", "Degree"
    SHORT_COURSE = "short_course", "Short course"
    OTHER = "other", "Other"


class Programme(models.Model):
    """Seed 004 `programs`. The code is unique within the institution (a department is
    optional, so the seed's per-department uniqueness would let two programmes without one
    share a code)."""

    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="programmes"
    )
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=50, unique=True)
    description = models.TextField(blank=True)
    duration_years = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text="How long the programme runs, in years (0.5 for six months).",
    )
    total_credits = models.PositiveIntegerField()
    degree_type = models.CharField(
        "qualification type", max_length=100, choices=QualificationType.choices
    )
    nqf_level = models.PositiveSmallIntegerField(
        "NQF level",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="South African providers: the qualification's level on the NQF (1 to 10).",
    )
    saqa_qualification_id = models.CharField(
        "SAQA qualification ID",
        max_length=20,
        blank=True,
        help_text="South African providers: the qualification's ID on the SAQA register.",
    )
    grading_scale = models.ForeignKey(
        GradingScale,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programmes",
        help_text="Leave empty to grade on the institution's default scale.",
    )
    fee_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What a learner's place in each of the programme's course runs costs; new "
        "course enrolments start with it.",
    )
    fee_currency = models.CharField(
        max_length=3,
        default="ZAR",
        validators=[CURRENCY_CODE],
        help_text="The fee's currency, as its ISO 4217 code (ZAR).",
    )
    subsidy_info = models.TextField(
        blank=True,
        help_text='Who pays what, as the gateway is told (e.g. "MICT SETA discretionary grant, '
        '90%"); new course enrolments start with it.',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nqf_level__isnull=True)
                | models.Q(nqf_level__gte=1, nqf_level__lte=10),
                name="programme_nqf_level_1_to_10",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("academics:programme", args=[self.pk])


class Course(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="courses")
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    credits = models.PositiveIntegerField()
    hours_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    is_core = models.BooleanField(
        "core", default=True, help_text="Core courses are required; electives are chosen."
    )
    is_active = models.BooleanField(default=True)
    prerequisites = models.ManyToManyField(
        "self",
        through="CoursePrerequisite",
        through_fields=("course", "prerequisite_course"),
        symmetrical=False,
        related_name="required_for",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"], name="course_code_unique_per_programme"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OutcomeKind(models.TextChoices):
    UNIT_STANDARD = "unit_standard", "Unit standard"
    MODULE = "module", "Module"


class Outcome(models.Model):
    """What a course's learners must show they can do (a unit standard or a module, with its
    code and credits): a portfolio of evidence is built and assessed per outcome (workplace)."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(
        max_length=20, choices=OutcomeKind.choices, default=OutcomeKind.UNIT_STANDARD
    )
    code = models.CharField(
        max_length=50, help_text="The unit standard's SAQA id (e.g. 119472) or the module code."
    )
    title = models.CharField(max_length=255)
    credits = models.PositiveIntegerField()
    nqf_level = models.PositiveSmallIntegerField(
        "NQF level",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the course's page.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "code"], name="outcome_code_unique_per_course"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CoursePrerequisite(models.Model):
    """`course` may be taken once `prerequisite_course` is completed. Cycles are refused by
    academics.services (with the path of the cycle); a course requiring itself by the
    database too."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    prerequisite_course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "prerequisite_course"], name="course_prerequisite_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(course=models.F("prerequisite_course")),
                name="course_prerequisite_not_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} requires {self.prerequisite_course}"


class AcademicYear(models.Model):
    """Seed 003: a period such as "2027"; years never overlap."""

    name = models.CharField(max_length=100, unique=True, help_text="E.g. 2027 or 2026–2027.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="academic_year_ends_after_it_starts",
            ),
            ExclusionConstraint(
                name="academic_years_do_not_overlap",
                expressions=[(_inclusive("starts_on", "ends_on"), RangeOperators.OVERLAPS)],
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AcademicSession(models.Model):
    """Seed 004 `academic_sessions` (a term or semester) within an academic year. At most one
    is current (the database says so); academics.services keeps exactly one current once any
    exists, and the dates within the year."""

    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="sessions"
    )
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=50, unique=True)
    start_date = models.DateField()
    end_date = models.DateField()
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="academic_session_one_current",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="academic_session_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Closure(models.Model):
    """A day or days the institution is closed besides the public holidays (a winter recess,
    a graduation day): schedules skip them and working-day deadlines do not count them."""

    name = models.CharField(max_length=120)
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="closure_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.name
