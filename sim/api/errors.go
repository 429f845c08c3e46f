package api

import (
	"net/http"

	"github.com/walletsim/walletsim/sim"
)

// Error is an HTTP error answer: a status and a machine-readable code. The
// body is always {"code": ..., "message": ...}; clients branch on code,
// never on message.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// Codes of requests refused before they reach the engine. Decline reasons
// (sim.Reason names) are the codes of requests the engine declined.
const (
	CodeMalformedJSON     = "malformed_json"
	CodeUnknownField      = "unknown_field"
	CodeMissingField      = "missing_field"
	CodeBodyTooLarge      = "body_too_large"
	CodeUnsupportedMedia  = "unsupported_media_type"
	CodeInvalidAmount     = "invalid_amount"
	CodeInvalidCurrency   = "invalid_currency"
	CodeCurrencyMismatch  = "currency_mismatch"
	CodeInvalidKind       = "invalid_kind"
	CodeWalletUnknown     = "wallet_unknown"
	CodeMerchantUnknown   = "merchant_unknown"
	CodeOperatorUnknown   = "operator_unknown"
	CodeSameWallet        = "same_wallet"
	CodeIdempotencyReused = "idempotency_key_reused"
	CodeIdempotencyBadKey = "invalid_idempotency_key"
	CodeUnauthorized      = "unauthorized"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeNotReady          = "not_ready"
	CodeOverloaded        = "overloaded"
	CodeShuttingDown      = "shutting_down"
	CodeWalletNotFound    = "wallet_not_found"
	CodePaymentNotFound   = "payment_not_found"
)

// DeclineStatus maps a decline reason to its HTTP status: 402 when money is
// missing, 403 when a rule forbids the amount, 422 when the payment cannot
// be made at all as asked (no route, no wallet that the acceptor takes).
func DeclineStatus(r sim.Reason) int {
	switch r {
	case sim.InsufficientFunds:
		return http.StatusPaymentRequired
	case sim.LimitExceeded, sim.RouteLimitExceeded, sim.BalanceCapExceeded:
		return http.StatusForbidden
	}
	return http.StatusUnprocessableEntity
}

var declineMessages = [sim.NumReasons]string{
	sim.InsufficientFunds:  "the wallet's balance is below the amount",
	sim.LimitExceeded:      "a per-transaction, daily, yearly, lifetime or static-code limit would be passed",
	sim.BalanceCapExceeded: "the receiving wallet's balance cap would be passed",
	sim.NoAcceptedWallet:   "none of the consumer's wallets is accepted here",
	sim.RouteUnavailable:   "the policy has no route for this wallet and acceptor",
	sim.FXUnavailable:      "the route offers no conversion into the price currency",
	sim.RouteLimitExceeded: "the route's own amount cap would be passed",
	sim.WalletUnknown:      "the counterparty wallet does not exist",
	sim.CurrencyMismatch:   "the currency does not fit the receiving wallet",
	sim.InvalidAmount:      "the amount is not valid",
}

// DeclineMessage is a human-readable line for a decline reason.
func DeclineMessage(r sim.Reason) string {
	if r < sim.NumReasons && declineMessages[r] != "" {
		return declineMessages[r]
	}
	return "declined"
}
