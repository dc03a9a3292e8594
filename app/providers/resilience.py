"""Around every provider call: a per-attempt timeout, retries of transient failures, a circuit breaker per
provider and a cap on concurrent calls — all inside the deadline the decision's budget sets."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_random_exponential

from app.providers.base import (
    BadProviderResponse,
    CircuitOpen,
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    CreditReportProvider,
    ProviderError,
    ProviderUnavailable,
)

logger = logging.getLogger("creditgate.providers")


class CircuitBreaker:
    """Closed → open after `failure_threshold` failures in a row → half-open after `reset_seconds`,
    when one trial call decides: success closes it, failure opens it again.

    Kept in process memory: each replica learns on its own that a provider is down, which costs at most
    `failure_threshold` slow decisions per replica."""

    def __init__(
        self, failure_threshold: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.reset_seconds:
            return "open"
        return "half_open"

    def rejects(self) -> bool:
        """True when a call now would be refused (open, or half-open with its one trial under way)."""
        state = self.state
        return state == "open" or (state == "half_open" and self._trial_running)

    def before_call(self, provider: str) -> None:
        if self.rejects():
            raise CircuitOpen(f"{provider}: circuit open after repeated failures")
        if self.state == "half_open":
            self._trial_running = True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def abandon(self) -> None:
        """A call cancelled before it finished says nothing about the provider."""
        self._trial_running = False


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, ProviderUnavailable) and error.transient


class ProviderGuard:
    """Runs provider calls under the resilience rules; one per process, shared by every provider."""

    def __init__(
        self,
        *,
        attempt_timeout_seconds: float,
        retries: int,
        max_concurrency: int,
        breaker_failures: int,
        breaker_reset_seconds: float,
        backoff_seconds: float = 0.05,
    ) -> None:
        self.attempt_timeout_seconds = attempt_timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self._slots = asyncio.Semaphore(max_concurrency)
        self._breaker_failures = breaker_failures
        self._breaker_reset_seconds = breaker_reset_seconds
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, provider: str) -> CircuitBreaker:
        if provider not in self._breakers:
            self._breakers[provider] = CircuitBreaker(self._breaker_failures, self._breaker_reset_seconds)
        return self._breakers[provider]

    def rejects(self, provider: str) -> bool:
        return self.breaker(provider).rejects()

    def breaker_states(self) -> dict[str, str]:
        """Each provider's breaker as it stands now: closed, half_open or open."""
        return {provider: breaker.state for provider, breaker in self._breakers.items()}

    async def call(self, provider: CreditReportProvider, company: CompanyQuery, deadline: float) -> CreditReport:
        """One logical call (retries included) that ends by `deadline` (event-loop time) at the latest."""
        breaker = self.breaker(provider.name)
        breaker.before_call(provider.name)
        try:
            report = await self._with_retries(provider, company, deadline)
        except CompanyNotFound:
            breaker.record_success()  # the provider answered; it is up
            raise
        except ProviderError:
            breaker.record_failure()
            raise
        except BaseException:
            breaker.abandon()
            raise
        breaker.record_success()
        return report

    async def _with_retries(
        self, provider: CreditReportProvider, company: CompanyQuery, deadline: float
    ) -> CreditReport:
        remaining = deadline - asyncio.get_running_loop().time()
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            # Never start a retry whose backoff alone would run past the deadline.
            stop=stop_after_attempt(self.retries + 1) | stop_before_delay(max(0.0, remaining)),
            wait=wait_random_exponential(multiplier=self.backoff_seconds, max=1.0),
            reraise=True,
        )
        report: CreditReport = await retrying(self._attempt, provider, company, deadline)
        return report

    async def _attempt(self, provider: CreditReportProvider, company: CompanyQuery, deadline: float) -> CreditReport:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise ProviderUnavailable(f"{provider.name}: no time left in the decision budget", transient=False)
        timeout = min(self.attempt_timeout_seconds, remaining)
        try:
            async with asyncio.timeout(timeout):
                async with self._slots:
                    return await provider.fetch_report(company)
        except TimeoutError:
            raise ProviderUnavailable(f"{provider.name}: no answer within {timeout * 1000:.0f} ms") from None
        except ProviderError:
            raise
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{provider.name}: {type(exc).__name__}") from exc
        except Exception as exc:
            # A third-party adapter that crashes is a provider that answered nonsense, not a 500.
            logger.exception("provider %s raised an unexpected error", provider.name)
            raise BadProviderResponse(f"{provider.name}: {type(exc).__name__}") from exc
