"""The HTTP carrier client: JSON over HTTP with per-call timeouts, retries where safe and
idempotency keys on every call that changes state."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import date
from typing import Any

from app.carriers.contract import (
    BindRequest,
    BindResult,
    CancelRequest,
    CancelResult,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    ClaimInfo,
    ClaimQuery,
    ClientContext,
    ConfirmResult,
    DownloadedClaim,
    DownloadedPolicy,
    EndorseRequest,
    EndorseResult,
    Health,
    IssueRequest,
    IssueResult,
    QuoteRequest,
    QuoteResult,
    StatementLine,
    from_data,
    to_data,
)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "HTTP 保险公司配置 / HTTP carrier configuration",
    "type": "object",
    "additionalProperties": False,
    "required": ["base_url"],
    "properties": {
        "base_url": {
            "type": "string",
            "pattern": r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/\-]*)?$",
            "description": "保险公司接口地址 / Base URL of the carrier's API.",
        },
        "channel_code": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{1,32}$",
            "description": "渠道代码 / Channel code.",
        },
        "retries": {"type": "integer", "minimum": 0, "maximum": 5, "default": 2},
        "backoff_ms": {"type": "integer", "minimum": 0, "maximum": 5000, "default": 50},
    },
}


class HttpCarrierClient:
    """contract.CarrierClient over the carrier's JSON API."""

    def __init__(
        self, config: Mapping[str, Any], credentials: Mapping[str, str], context: ClientContext
    ) -> None:
        self.base_url = str(config["base_url"]).rstrip("/")
        self.channel = str(config.get("channel_code") or context.tenant_code)
        self.retries = int(config.get("retries", 2))
        self.backoff = int(config.get("backoff_ms", 50)) / 1000
        self.carrier_key = context.carrier_key
        self._api_key = credentials.get("api_key", "")

    def __repr__(self) -> str:  # never the key
        return f"HttpCarrierClient({self.carrier_key} at {self.base_url})"

    # --- transport ---------------------------------------------------------------------------

    def _post_once(self, path: str, body: Any, timeout: float, key: str | None) -> Any:
        headers = {"Content-Type": "application/json", "X-Channel": self.channel}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if key:
            headers["Idempotency-Key"] = key
        data = json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(self.base_url + path, data, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode() or "null")
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except TimeoutError as error:
            raise CarrierUnavailable(
                f"timeout after {timeout:g}s", [f"保险公司在 {timeout:g} 秒内未响应"]
            ) from error
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as error:
            raise CarrierUnavailable(
                f"connection failed: {error}", ["无法连接保险公司或连接中断"]
            ) from error

    def _http_error(self, error: urllib.error.HTTPError) -> CarrierError:
        try:
            answer = json.loads(error.read().decode() or "{}")
        except (ValueError, OSError):
            answer = {}
        reasons = answer.get("reasons") or [answer.get("message") or f"HTTP {error.code}"]
        if error.code >= 500 or error.code == 429:
            return CarrierUnavailable(f"HTTP {error.code}", reasons)
        if error.code in (401, 403):
            return CarrierError(f"HTTP {error.code}", ["保险公司拒绝了凭据，请检查保险公司凭据"])
        if error.code in (409, 422):
            return CarrierRefused(f"HTTP {error.code}", reasons)
        return CarrierError(f"HTTP {error.code}", reasons)

    def _post(self, path: str, body: Any, timeout: float, key: str | None = None) -> Any:
        """POST, retried on CarrierUnavailable. A call without a key is a read (safe to repeat);
        a call with a key is repeated with the same key, which the carrier answers once."""
        deadline = time.monotonic() + timeout * (self.retries + 1)
        attempt = 0
        while True:
            try:
                return self._post_once(path, body, timeout, key)
            except CarrierUnavailable:
                attempt += 1
                if attempt > self.retries or time.monotonic() >= deadline:
                    raise
                time.sleep(self.backoff * attempt)

    # --- the contract ------------------------------------------------------------------------

    def quote(self, request: QuoteRequest, timeout: float) -> QuoteResult:
        return from_data(QuoteResult, self._post("/v1/quote", to_data(request), timeout))

    def bind(self, request: BindRequest, timeout: float) -> BindResult:
        answer = self._post("/v1/bind", to_data(request), timeout, request.idempotency_key)
        return from_data(BindResult, answer)

    def issue(self, request: IssueRequest, timeout: float) -> IssueResult:
        if not request.idempotency_key:
            raise CarrierError("issue needs an idempotency key", ["出单请求缺少幂等键"])
        answer = self._post("/v1/issue", to_data(request), timeout, request.idempotency_key)
        return from_data(IssueResult, answer)

    def endorse(self, request: EndorseRequest, timeout: float) -> EndorseResult:
        answer = self._post("/v1/endorse", to_data(request), timeout, request.idempotency_key)
        return from_data(EndorseResult, answer)

    def cancel(self, request: CancelRequest, timeout: float) -> CancelResult:
        answer = self._post("/v1/cancel", to_data(request), timeout, request.idempotency_key)
        return from_data(CancelResult, answer)

    def confirm(self, policy_no: str, timeout: float) -> ConfirmResult:
        answer = self._post("/v1/confirm", {"policy_no": policy_no}, timeout)
        return from_data(ConfirmResult, answer)

    def claim_lookup(self, query: ClaimQuery, timeout: float) -> tuple[ClaimInfo, ...]:
        answer = self._post("/v1/claims/lookup", to_data(query), timeout)
        return tuple(from_data(ClaimInfo, row) for row in answer)

    def download_policies(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedPolicy, ...]:
        window = {"since": since.isoformat(), "until": until.isoformat()}
        answer = self._post("/v1/downloads/policies", window, timeout)
        return tuple(from_data(DownloadedPolicy, row) for row in answer)

    def download_statement(self, period: str, timeout: float) -> tuple[StatementLine, ...]:
        answer = self._post("/v1/downloads/statement", {"period": period}, timeout)
        return tuple(from_data(StatementLine, row) for row in answer)

    def download_claims(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedClaim, ...]:
        window = {"since": since.isoformat(), "until": until.isoformat()}
        answer = self._post("/v1/downloads/claims", window, timeout)
        return tuple(from_data(DownloadedClaim, row) for row in answer)

    def health(self, timeout: float) -> Health:
        started = time.monotonic()
        answer = self._post("/v1/health", {}, timeout)
        elapsed = int((time.monotonic() - started) * 1000)
        return Health(bool(answer.get("ok")), elapsed, str(answer.get("detail", "")))
