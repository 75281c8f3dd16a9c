package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestNoteRefundsLogsChanges: the refunds listing's failure is logged once
// per distinct error and its recovery once, not every refresh.
func TestNoteRefundsLogsChanges(t *testing.T) {
	var buf bytes.Buffer
	c := &collector{logger: slog.New(slog.NewTextHandler(&buf, nil))}
	e403 := errors.New("stripe: list refunds: HTTP 403")
	e500 := errors.New("stripe: list refunds: HTTP 500")
	for _, tc := range []struct {
		err  error
		want string // what this refresh logs, "" for nothing
	}{
		{nil, ""},
		{e403, "level=WARN msg=\"refunds cannot be read; redemptions and revenue are exported, refunds keep their last values\" err=\"stripe: list refunds: HTTP 403\""},
		{e403, ""},
		{e403, ""},
		{e500, "err=\"stripe: list refunds: HTTP 500\""},
		{e500, ""},
		{nil, "level=INFO msg=\"refunds can be read again\""},
		{nil, ""},
	} {
		buf.Reset()
		c.noteRefunds(tc.err)
		got := buf.String()
		if tc.want == "" && got != "" || tc.want != "" && (!strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1) {
			t.Errorf("after %v logged %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestLegacyAdaptivePricing: a session with currency_conversion (created
// before 2025-03-30 with Adaptive Pricing) counts in the account's
// currency, its refunds (in the buyer's) converted pro rata.
func TestLegacyAdaptivePricing(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		currency   string
		total      float64
		refunded   float64
	}{
		{"plain", `{"id":"cs_1","status":"complete","payment_status":"paid","currency":"eur","amount_total":5000}`, "EUR", 50, 11},
		{"converted", `{"id":"cs_1","status":"complete","payment_status":"paid","currency":"usd","amount_total":5400,
			"currency_conversion":{"amount_subtotal":5400,"amount_total":5000,"fx_rate":"1.08","source_currency":"eur"}}`, "EUR", 50, 10.26},
		{"zero-decimal buyer", `{"id":"cs_1","status":"complete","payment_status":"paid","currency":"jpy","amount_total":8000,
			"currency_conversion":{"amount_subtotal":8000,"amount_total":5000,"fx_rate":"160","source_currency":"eur"}}`, "EUR", 50, 7.25},
	} {
		var s session
		if err := json.Unmarshal([]byte(tc.body), &s); err != nil {
			t.Fatal(err)
		}
		s.Discounts = append(s.Discounts, struct {
			PromotionCode ref `json:"promotion_code"`
		}{ref{ID: "promo_1", Code: "ALICE10"}})
		c := &collector{promo: map[string]string{"promo_1": "ALICE10"}, spelled: map[string]string{"alice10": "ALICE10"},
			found: map[string]bool{}, sessions: map[string]*tracked{}}
		tr := c.track(s)
		if tr == nil {
			t.Fatalf("%s: not tracked", tc.name)
		}
		// A refund of 1000 minor units of the session's currency (the
		// charge's): 10 EUR, 10 USD or 1000 JPY; and one in the
		// account's currency, kept as is.
		tr.addRefund(refund{ID: "re_1", Amount: 1000, Currency: s.Currency})
		tr.addRefund(refund{ID: "re_2", Amount: 100, Currency: "eur"})
		tr.settle()
		if tr.order.Currency != tc.currency || tr.order.Total != tc.total || tr.order.Refunded != tc.refunded {
			t.Errorf("%s: %s %g refunded %g, want %s %g refunded %g", tc.name, tr.order.Currency, tr.order.Total, tr.order.Refunded, tc.currency, tc.total, tc.refunded)
		}
	}
}
