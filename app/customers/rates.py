"""Exchange rates as the ERP pushed them, and the conversions exposure needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from app.money import from_minor, quantize

RATE_PLACES = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class RateTable:
    """Pairs (base, quote) → units of quote per one base; inverse and one-step cross rates are derived."""

    pairs: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str]]) -> RateTable:
        return cls({(base, quote): Decimal(rate) for base, quote, rate in rows})

    def rate(self, to_currency: str, from_currency: str) -> Decimal | None:
        """Units of `to_currency` per one unit of `from_currency`, or None when no rate leads there."""
        if to_currency == from_currency:
            return Decimal(1)
        direct = self._direct(from_currency, to_currency)
        if direct is not None:
            return direct
        # Through a common currency, e.g. USD→CHF via EUR when the ERP pushed EUR-based rates.
        for pivot in sorted(self._currencies()):
            first = self._direct(from_currency, pivot)
            second = self._direct(pivot, to_currency)
            if first is not None and second is not None:
                return _rounded(first * second)
        return None

    def _direct(self, from_currency: str, to_currency: str) -> Decimal | None:
        rate = self.pairs.get((from_currency, to_currency))
        if rate is not None:
            return rate
        inverse = self.pairs.get((to_currency, from_currency))
        return None if inverse is None else _rounded(Decimal(1) / inverse)

    def _currencies(self) -> set[str]:
        return {currency for pair in self.pairs for currency in pair}


def _rounded(value: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 34
        return value.quantize(RATE_PLACES).normalize()


@dataclass(frozen=True, slots=True)
class Converted:
    amount: Decimal
    unpriced: frozenset[str]
    used: Mapping[str, Decimal]


def convert_sums(sums: Mapping[str, int], target: str, rates: RateTable) -> Converted:
    """Per-currency sums in minor units → one amount in `target`; currencies without a rate are left out."""
    total = Decimal(0)
    unpriced: set[str] = set()
    used: dict[str, Decimal] = {}
    for currency, minor in sums.items():
        if minor == 0:
            continue
        amount = from_minor(minor, currency)
        rate = rates.rate(target, currency)
        if rate is None:
            unpriced.add(currency)
            continue
        if currency != target:
            used[currency] = rate
            amount = quantize(amount * rate, target)
        total += amount
    return Converted(quantize(total, target), frozenset(unpriced), used)
