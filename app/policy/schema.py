"""The credit policy document: a typed, versioned schema a credit manager can read and change."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.money import MAX_AMOUNT, minor_units

RATED_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E")
# The grid's rows: the rated classes from best to worst, and "unknown" (no usable rating).
GRID_CLASSES: tuple[str, ...] = (*RATED_CLASSES, "unknown")

# In the policy's currency; its decimals are checked against that currency when the document is stored.
Amount = Annotated[Decimal, Field(ge=0, lt=MAX_AMOUNT, decimal_places=4)]
Share = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]


class PolicyRuleError(ValueError):
    """A cross-field rule broken inside the document; `field` is the path below the validated model."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitRule(_Strict):
    """How a cell turns a report into a credit limit."""

    rule: Literal["share_of_recommended", "fixed", "lower_of"]
    share: Share | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _needs_its_parameters(self) -> LimitRule:
        if self.rule in ("share_of_recommended", "lower_of") and self.share is None:
            raise PolicyRuleError("share", f"rule {self.rule} needs 'share'")
        if self.rule in ("fixed", "lower_of") and self.amount is None:
            raise PolicyRuleError("amount", f"rule {self.rule} needs 'amount'")
        return self


class Cell(_Strict):
    """One risk class × segment: limit rule, cap, payment terms and review threshold."""

    limit: LimitRule
    cap: Amount | None = None
    payment_terms_days: int = Field(ge=0, le=365)
    review_above: Amount | None = None


class Prepayment(_Strict):
    minimum_share: Share = Decimal("0")
    full_prepayment_classes: list[Literal["A", "B", "C", "D", "E", "unknown"]] = Field(default_factory=list)


class StopRules(_Strict):
    overdue_days_tolerance: int = Field(ge=0)
    overdue_amount_tolerance: Amount
    outcome: Literal["prepayment", "review", "reject"] = "prepayment"


class LongerTerms(_Strict):
    """An order asking for more days than its cell's `payment_terms_days` (docs/policy.md)."""

    # Granted as asked up to the cell's terms plus these days; 0: no day more without `beyond`.
    max_extra_days: int = Field(default=0, ge=0, le=365)
    # Beyond that: `cap` grants the cell's terms plus `max_extra_days`; `review` sends the order to a person.
    beyond: Literal["cap", "review"] = "cap"


class SmallOrders(_Strict):
    threshold: Amount


class NewCustomers(_Strict):
    first_order_cap: Amount | None = None


class ProviderUnavailable(_Strict):
    action: Literal["review", "prepayment", "accept_up_to"] = "review"
    accept_up_to: Amount | None = None

    @model_validator(mode="after")
    def _amount_for_accept(self) -> ProviderUnavailable:
        if self.action == "accept_up_to" and self.accept_up_to is None:
            raise PolicyRuleError("accept_up_to", "action accept_up_to needs 'accept_up_to'")
        return self


class ReviewRules(_Strict):
    """Manual review: above this order amount a second, different reviewer must settle the case."""

    four_eyes_above: Amount | None = None


ReviewMonths = Annotated[int, Field(ge=1, le=60)]


def _review_months() -> dict[str, int]:
    return {"A": 12, "B": 12, "C": 6, "D": 3, "E": 1, "unknown": 6}


class ProposalRules(_Strict):
    """The opportunities pass: who is proposed a higher limit, and how much."""

    # Customers with an order sent to prepayment or review for exceeding the available credit in these days.
    lookback_days: int = Field(default=90, ge=1, le=730)
    # The proposal is the lowest of: this share of the bureau's recommended limit, this multiple of the peak
    # monthly exposure the customer's orders asked for, and the cap.
    share_of_recommended: Share = Decimal("1.00")
    exposure_multiple: Decimal = Field(default=Decimal("2.00"), gt=0, le=100, decimal_places=2)
    cap: Amount | None = None
    # A good payment record: at least this many paid invoices in 12 months, paid on average at most this many
    # days beyond terms, and nothing overdue longer than the grace days now.
    min_paid_invoices: int = Field(default=3, ge=0, le=10000)
    max_days_beyond_terms: int = Field(default=10, ge=0, le=365)
    overdue_grace_days: int = Field(default=0, ge=0, le=365)


class LimitRules(_Strict):
    """Limit requests (who approves them, how long they and uplifts run) and limit reviews."""

    # A request for a limit (or an uplift) above this needs two different reviewers; absent: review.four_eyes_above.
    four_eyes_above: Amount | None = None
    request_valid_days: int = Field(default=30, ge=1, le=365)
    max_uplift_days: int = Field(default=92, ge=1, le=366)
    # Months from a limit's last change (or confirmation) to its next review, per risk class and for unrated.
    review_months: dict[str, ReviewMonths] = Field(default_factory=_review_months)
    # What a manual limit past its expiry gives: the policy's grid limit, zero, or the manual limit still.
    expired_manual_limit: Literal["policy", "zero", "keep"] = "policy"
    proposals: ProposalRules = ProposalRules()

    @model_validator(mode="after")
    def _every_class_reviewed(self) -> LimitRules:
        wanted = (*RATED_CLASSES, "unknown")
        missing = [name for name in wanted if name not in self.review_months]
        extra = [name for name in self.review_months if name not in wanted]
        if missing or extra:
            raise PolicyRuleError("review_months", f"needs exactly the classes {', '.join(wanted)}")
        for better, worse in itertools.pairwise(RATED_CLASSES):
            if self.review_months[worse] > self.review_months[better]:
                raise PolicyRuleError(
                    f"review_months.{worse}", f"a worse class is reviewed at least as often as {better}"
                )
        return self


class Reports(_Strict):
    max_age_days: int = Field(ge=0, le=3650)


MonitoringChange = Literal["insolvency", "rating_downgrade", "score_drop", "days_beyond_terms_rising", "overdue"]


def _block_on_insolvency() -> list[MonitoringChange]:
    return ["insolvency"]


class Monitoring(_Strict):
    """How the portfolio monitor watches customers: report age, what counts as a change, what blocks."""

    max_age_days: int = Field(default=30, ge=1, le=3650)
    score_drop_threshold: int = Field(default=10, ge=1, le=100)
    block_on: list[MonitoringChange] = Field(default_factory=_block_on_insolvency)


class ScoreBands(_Strict):
    """Lowest score (0–100) of each class, for providers that give a score and no class."""

    A: int = Field(ge=0, le=100)
    B: int = Field(ge=0, le=100)
    C: int = Field(ge=0, le=100)
    D: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _descending(self) -> ScoreBands:
        for better, worse in itertools.pairwise("ABCD"):
            if getattr(self, better) <= getattr(self, worse):
                raise PolicyRuleError(worse, f"score bands must strictly descend from A to D: {worse} >= {better}")
        return self

    def classify(self, score: int) -> str:
        for risk_class in ("A", "B", "C", "D"):
            if score >= getattr(self, risk_class):
                return risk_class
        return "E"


BehaviourFigureName = Literal[
    "dbt_90_days",
    "dbt_12_months",
    "late_share",
    "partial_payment_rate",
    "overdue_growth_30_days",
    "days_since_last_payment",
    "longer_terms_requests",
]
BEHAVIOUR_FIGURES: tuple[str, ...] = (
    "dbt_90_days",
    "dbt_12_months",
    "late_share",
    "partial_payment_rate",
    "overdue_growth_30_days",
    "days_since_last_payment",
    "longer_terms_requests",
)
Bound = Annotated[Decimal, Field(gt=-MAX_AMOUNT, lt=MAX_AMOUNT, decimal_places=4)]


class PointsRange(_Strict):
    """Values from `at_least` (inclusive) up to `below` (exclusive) score `points`; a missing bound is open."""

    at_least: Bound | None = None
    below: Bound | None = None
    points: int = Field(ge=0, le=100)

    def holds(self, value: Decimal) -> bool:
        return (self.at_least is None or value >= self.at_least) and (self.below is None or value < self.below)


class FigurePoints(_Strict):
    """One figure's scoring group: ranges covering every value once, and the points when it cannot be computed."""

    ranges: list[PointsRange] = Field(min_length=1)
    missing: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _cover_once(self) -> FigurePoints:
        first, last = self.ranges[0], self.ranges[-1]
        if first.at_least is not None:
            raise PolicyRuleError("ranges.0.at_least", "the first range must be open below (no 'at_least')")
        if last.below is not None:
            raise PolicyRuleError(
                f"ranges.{len(self.ranges) - 1}.below", "the last range must be open above (no 'below')"
            )
        for number, (before, after) in enumerate(itertools.pairwise(self.ranges), start=1):
            if before.below is None or after.at_least is None or after.at_least != before.below:
                message = f"must start where range {number - 1} ends ({before.below}): no gap, no overlap"
                raise PolicyRuleError(f"ranges.{number}.at_least", message)
            if after.below is not None and after.below <= after.at_least:
                raise PolicyRuleError(f"ranges.{number}.below", "must be above 'at_least'")
        return self

    def points_for(self, value: Decimal | None) -> int:
        if value is None:
            return self.missing
        return next(band.points for band in self.ranges if band.holds(value))


class BehaviourRules(_Strict):
    """The payment-behaviour score from the customer's own invoices and payments (docs/behaviour.md)."""

    minimum_paid_invoices: int = Field(default=3, ge=1, le=10_000)
    points: dict[BehaviourFigureName, FigurePoints] = Field(min_length=1)
    classes: ScoreBands  # lowest total points of A–D; below D is E
    # worse_of: the worse of the bureau's class and the behaviour class decides; bureau_only: the behaviour
    # class only triggers review_classes / prepayment_classes.
    combine: Literal["worse_of", "bureau_only"] = "worse_of"
    # Whether customers without a report (small orders, no registration number) are judged on their record.
    apply_without_report: bool = True
    # own: the customer's own class; worse_of: the worse of it and its group's (customers sharing a parent).
    group: Literal["own", "worse_of"] = "own"
    review_classes: list[Literal["A", "B", "C", "D", "E"]] = Field(default_factory=list)
    prepayment_classes: list[Literal["A", "B", "C", "D", "E"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> BehaviourRules:
        for name, listed in (("review_classes", self.review_classes), ("prepayment_classes", self.prepayment_classes)):
            for better, worse in itertools.pairwise(RATED_CLASSES):
                if better in listed and worse not in listed:
                    raise PolicyRuleError(name, f"has {better} but not the worse class {worse}")
        best = sum(
            max(band.points for band in [*group.ranges, PointsRange(points=group.missing)])
            for group in self.points.values()
        )
        if best < self.classes.A:
            raise PolicyRuleError("classes.A", f"no customer can reach it: the points add up to at most {best}")
        return self


class ArrangementRules(_Strict):
    """Payment arrangements (promises to pay, instalment plans) and what they do to decisions (docs/behaviour.md)."""

    # An instalment paid in full within this many days after its due date is kept.
    grace_days: int = Field(default=0, ge=0, le=90)
    # While an arrangement is kept: new credit as usual (`allow`), up to `new_credit_cap`, or prepaid only.
    new_credit: Literal["allow", "cap", "prepayment"] = "allow"
    new_credit_cap: Amount | None = None
    # A broken arrangement whose invoices are still open: no effect, review, prepayment or reject.
    on_broken: Literal["none", "review", "prepayment", "reject"] = "review"

    @model_validator(mode="after")
    def _cap_for_cap(self) -> ArrangementRules:
        if self.new_credit == "cap" and self.new_credit_cap is None:
            raise PolicyRuleError("new_credit_cap", "new_credit cap needs 'new_credit_cap'")
        if self.new_credit != "cap" and self.new_credit_cap is not None:
            raise PolicyRuleError("new_credit_cap", "only with new_credit cap")
        return self


Days = Annotated[Decimal, Field(ge=0, le=3650, decimal_places=1)]


class SignalRules(_Strict):
    """Early-warning thresholds on the customer's own record; a threshold left out raises no signal."""

    # dbt_90_days exceeds dbt_12_months by at least this many days: paying later than it used to.
    dbt_trend_days: Days | None = None
    # overdue_growth_30_days at least this amount (in the policy's currency).
    overdue_growth: Amount | None = None
    # late_share at least this share of the amount paid in 12 months.
    late_share: Share | None = None
    # A payment arrangement broken (and not paid off or cancelled).
    broken_arrangement: bool = True
    # Invoices with a payment in 12 months the trend and the late share need before they count.
    minimum_paid_invoices: int = Field(default=3, ge=1, le=10_000)


RatedClass = Literal["A", "B", "C", "D", "E"]


def _sound_classes() -> list[RatedClass]:
    return ["A", "B", "C"]


class Discretionary(_Strict):
    """A limit the seller may grant without the insurer's named cover, under the insurance policy's conditions:
    enough trading history paid on time, or (when `with_recent_report`) a report recent enough."""

    amount: Amount
    min_trading_days: int | None = Field(default=None, ge=1, le=36500)
    max_days_late: int = Field(default=30, ge=0, le=3650)
    with_recent_report: bool = False
    report_classes: list[RatedClass] = Field(default_factory=_sound_classes)

    @model_validator(mode="after")
    def _some_condition(self) -> Discretionary:
        if self.min_trading_days is None and not self.with_recent_report:
            raise PolicyRuleError("min_trading_days", "give min_trading_days, with_recent_report, or both")
        for better, worse in itertools.pairwise(RATED_CLASSES):
            if worse in self.report_classes and better not in self.report_classes:
                raise PolicyRuleError("report_classes", f"has {worse} but not the better class {better}")
        return self


class OverdueReporting(_Strict):
    """The insurance policy's duty to report overdue invoices of insured buyers."""

    after_days: int = Field(ge=0, le=3650)  # an invoice still open this many days past due must be reported …
    deadline_days: int = Field(ge=0, le=3650)  # … by its due date plus this many days

    @model_validator(mode="after")
    def _deadline_after_entry(self) -> OverdueReporting:
        if self.deadline_days < self.after_days:
            raise PolicyRuleError("deadline_days", "must not be before after_days: the deadline follows the entry")
        return self


class Insurance(_Strict):
    """Credit insurance over the grid (docs/insurance.md): a cover in force sets the insured part of the limit,
    the seller keeps at most its retention per segment as its own risk; the insurance policy's duties."""

    # The seller's own risk per segment on top of the cover (a segment not named: none).
    retention: dict[str, Amount] = Field(default_factory=dict)
    discretionary: Discretionary | None = None
    # The maximum extension period: from the oldest overdue invoice's due date plus this, no delivery on credit.
    max_extension_days: int | None = Field(default=None, ge=0, le=3650)
    reporting: OverdueReporting | None = None


class PolicyDocument(_Strict):
    """A whole credit policy version."""

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    description: str = ""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    segments: list[str] = Field(min_length=1)
    default_segment: str
    score_bands: ScoreBands
    grid: dict[str, dict[str, Cell]]
    prepayment: Prepayment = Prepayment()
    stop: StopRules
    small_orders: SmallOrders
    new_customers: NewCustomers = NewCustomers()
    longer_terms: LongerTerms = LongerTerms()
    provider_unavailable: ProviderUnavailable = ProviderUnavailable()
    company_not_found: Literal["review", "prepayment", "reject"] = "review"
    reports: Reports
    review: ReviewRules = ReviewRules()
    monitoring: Monitoring = Monitoring()
    limits: LimitRules = LimitRules()
    behaviour: BehaviourRules | None = None  # absent: the customer's payment record is no input
    arrangements: ArrangementRules | None = None  # absent: payment arrangements are no input
    signals: SignalRules | None = None  # absent: no early-warning signals are raised
    insurance: Insurance | None = None  # absent: covers explain the exposure, the grid alone sets the limit

    @model_validator(mode="after")
    def _coherent(self) -> PolicyDocument:
        if self.version == "active":
            raise PolicyRuleError("version", "'active' is reserved: GET /v1/policies/active names the active version")
        try:
            minor_units(self.currency)
        except ValueError as exc:
            raise PolicyRuleError("currency", str(exc)) from None
        if len(set(self.segments)) != len(self.segments):
            raise PolicyRuleError("segments", "each segment may appear only once")
        if self.default_segment not in self.segments:
            raise PolicyRuleError(
                "default_segment", f"default_segment {self.default_segment!r} is not one of the segments"
            )
        missing = [risk_class for risk_class in GRID_CLASSES if risk_class not in self.grid]
        extra = [risk_class for risk_class in self.grid if risk_class not in GRID_CLASSES]
        if missing or extra:
            field = f"grid.{extra[0]}" if extra else "grid"
            raise PolicyRuleError(field, f"grid must have exactly the rows {', '.join(GRID_CLASSES)}")
        for risk_class, row in self.grid.items():
            if set(row) != set(self.segments):
                raise PolicyRuleError(
                    f"grid.{risk_class}", f"needs exactly one cell for each segment: {', '.join(self.segments)}"
                )
        for segment, cell in self.grid["unknown"].items():
            if cell.limit.rule != "fixed":
                raise PolicyRuleError(
                    f"grid.unknown.{segment}.limit.rule", "unrated customers have no recommended limit: use 'fixed'"
                )
        self._check_monotone()
        if self.insurance is not None:
            unknown = [segment for segment in self.insurance.retention if segment not in self.segments]
            if unknown:
                raise PolicyRuleError(f"insurance.retention.{unknown[0]}", "is not one of the segments")
        return self

    def _check_monotone(self) -> None:
        """A worse class may never be granted more than a better one in the same segment."""
        for better, worse in itertools.pairwise(RATED_CLASSES):
            for segment in self.segments:
                b, w = self.grid[better][segment], self.grid[worse][segment]
                where, than = f"grid.{worse}.{segment}", f"grid.{better}.{segment}"
                if w.limit.rule != b.limit.rule:
                    raise PolicyRuleError(f"{where}.limit.rule", f"differs from {than}.limit.rule")
                if _looser(w.limit.share, b.limit.share):
                    raise PolicyRuleError(f"{where}.limit.share", f"grants more than {than}.limit.share")
                if _looser(w.limit.amount, b.limit.amount):
                    raise PolicyRuleError(f"{where}.limit.amount", f"grants more than {than}.limit.amount")
                if _looser(w.cap, b.cap):
                    raise PolicyRuleError(f"{where}.cap", f"is higher than {than}.cap (or missing while it is set)")
                if _looser(w.review_above, b.review_above):
                    raise PolicyRuleError(
                        f"{where}.review_above", f"is higher than {than}.review_above (or missing while it is set)"
                    )
            full = self.prepayment.full_prepayment_classes
            if better in full and worse not in full:
                raise PolicyRuleError(
                    "prepayment.full_prepayment_classes", f"has {better} but not the worse class {worse}"
                )

    def cell(self, risk_class: str, segment: str) -> Cell:
        return self.grid[risk_class][segment]

    def amounts(self) -> Iterator[tuple[str, Decimal]]:
        """Every amount of the document with its field, all in the policy's currency."""
        for risk_class, row in self.grid.items():
            for segment, cell in row.items():
                where = f"grid.{risk_class}.{segment}"
                yield from _given(
                    (f"{where}.limit.amount", cell.limit.amount),
                    (f"{where}.cap", cell.cap),
                    (f"{where}.review_above", cell.review_above),
                )
        yield from _given(
            ("stop.overdue_amount_tolerance", self.stop.overdue_amount_tolerance),
            ("small_orders.threshold", self.small_orders.threshold),
            ("new_customers.first_order_cap", self.new_customers.first_order_cap),
            ("provider_unavailable.accept_up_to", self.provider_unavailable.accept_up_to),
            ("review.four_eyes_above", self.review.four_eyes_above),
            ("arrangements.new_credit_cap", self.arrangements.new_credit_cap if self.arrangements else None),
            ("signals.overdue_growth", self.signals.overdue_growth if self.signals else None),
            ("limits.four_eyes_above", self.limits.four_eyes_above),
            ("limits.proposals.cap", self.limits.proposals.cap),
        )
        if self.insurance is not None:
            for segment, retention in self.insurance.retention.items():
                yield f"insurance.retention.{segment}", retention
            if self.insurance.discretionary is not None:
                yield "insurance.discretionary.amount", self.insurance.discretionary.amount


def _given(*pairs: tuple[str, Decimal | None]) -> Iterator[tuple[str, Decimal]]:
    return ((field, amount) for field, amount in pairs if amount is not None)


def upload_errors(document: PolicyDocument) -> list[dict[str, Any]]:
    """What a document must also meet to be stored or activated: every amount within its currency's decimals.

    Not checked on reading a stored version, so that one stored before the check can still be shown."""
    places = minor_units(document.currency)
    errors = []
    for field, amount in document.amounts():
        exponent = amount.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            message = f"more decimals than {document.currency} has ({places})"
            errors.append({"field": field, "message": message})
    return errors


def _looser(worse: Decimal | None, better: Decimal | None) -> bool:
    """True when `worse` allows more than `better` (None means no bound)."""
    if worse is None:
        return better is not None
    return better is not None and worse > better


class PolicyDocumentError(ValueError):
    """A policy document that does not validate; `errors` name each field (and, for YAML text, the line)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def parse_policy(document: Any, *, stored: bool = False) -> PolicyDocument:
    """A document to store (every check), or, with `stored`, one read back from the database."""
    try:
        parsed = PolicyDocument.model_validate(document)
    except ValidationError as exc:
        raise PolicyDocumentError([_field_error(error) for error in exc.errors(include_url=False)]) from None
    errors = [] if stored else upload_errors(parsed)
    if errors:
        raise PolicyDocumentError(errors)
    return parsed


def _field_error(error: Any) -> dict[str, Any]:
    path = [str(part) for part in error["loc"]]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, PolicyRuleError):
        path.extend(cause.field.split("."))
    message = str(error["msg"]).removeprefix("Value error, ")
    return {"field": ".".join(path) or "document", "message": message}


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A policy is a few kilobytes, five levels deep. The bounds keep a hostile document from crashing the process:
# the C composer recurses once per level (a segfault near 60,000), libyaml's scanner slows with the square of
# the flow depth, and aliases can multiply a small text into billions of nodes.
MAX_POLICY_CHARS = 256 * 1024
MAX_POLICY_DEPTH = 32
MAX_POLICY_NODES = 100_000


def load_policy_text(text: str) -> PolicyDocument:
    """Parse a YAML (or JSON) policy document; errors name the field and the line."""
    try:
        check_yaml_shape(text)
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, in C when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        message = str(getattr(exc, "problem", None) or exc)
        line = mark.line + 1 if mark else None
        raise PolicyDocumentError([{"field": where, "message": message, "line": line}]) from None
    try:
        return parse_policy(document)
    except PolicyDocumentError as exc:
        tree = yaml.compose(text, Loader=_Loader)  # only now: the node tree knows each field's line
        for error in exc.errors:
            error["line"] = _line_of(tree, error["field"])
        raise


def check_yaml_shape(text: str) -> None:
    """Refuse a document too long, too deep or too many nodes once aliases expand, before anything is composed.

    It reads the parser's events one at a time and stops at the first excess, so the cost stays proportional
    to what it has read within the bounds.
    """
    if len(text) > MAX_POLICY_CHARS:
        raise _shape_error(None, f"the document is longer than {MAX_POLICY_CHARS} characters")
    open_anchors: list[tuple[str | None, int]] = []  # each open collection's anchor and its first node's number
    sizes: dict[str, int] = {}  # nodes under each closed anchor, aliases expanded
    nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _start in open_anchors):
                raise _shape_error(event, f"the alias *{event.anchor} refers to a node that contains it")
            nodes += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            nodes += 1
            open_anchors.append((event.anchor, nodes))
            if len(open_anchors) > MAX_POLICY_DEPTH:
                raise _shape_error(event, f"nested deeper than {MAX_POLICY_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_anchors.pop()
            if anchor:
                sizes[anchor] = nodes - start + 1
        if nodes > MAX_POLICY_NODES:
            raise _shape_error(event, f"more than {MAX_POLICY_NODES} values once aliases are expanded")


def _shape_error(event: yaml.Event | None, message: str) -> PolicyDocumentError:
    mark = getattr(event, "start_mark", None)
    if mark is None:
        return PolicyDocumentError([{"field": "document", "message": message, "line": None}])
    return PolicyDocumentError(
        [{"field": f"line {mark.line + 1}, column {mark.column + 1}", "message": message, "line": mark.line + 1}]
    )


def _line_of(node: yaml.Node | None, field: str) -> int | None:
    """The line of the deepest node along a dotted field path (1-based)."""
    line = None
    for part in field.split("."):
        if node is None:
            break
        line = node.start_mark.line + 1
        node = _child(node, part)
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if getattr(key, "value", None) == part), None)
    if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        child: yaml.Node = node.value[int(part)]
        return child
    return None


def load_policy_file(path: Path) -> PolicyDocument:
    with path.open(encoding="utf-8") as file:
        text = file.read(MAX_POLICY_CHARS + 1)  # a larger file is refused without reading it all
    return load_policy_text(text)
