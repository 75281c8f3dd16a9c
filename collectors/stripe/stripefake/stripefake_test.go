package stripefake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "sk_test_FAKEfakeFAKE0123456789"

var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

type stripeError struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

type sessionList struct {
	Object  string `json:"object"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
	Data    []struct {
		ID           string `json:"id"`
		Created      int64  `json:"created"`
		Currency     string `json:"currency"`
		AmountTotal  int64  `json:"amount_total"`
		Discounts    []any  `json:"discounts"`
		TotalDetails struct {
			AmountDiscount int64 `json:"amount_discount"`
			Breakdown      *struct {
				Discounts []struct {
					Discount struct {
						PromotionCode string `json:"promotion_code"`
					} `json:"discount"`
				} `json:"discounts"`
			} `json:"breakdown"`
		} `json:"total_details"`
	} `json:"data"`
}

func newServer(t *testing.T) (*Server, *exportertest.ManualClock, string) {
	t.Helper()
	clock := exportertest.NewManualClock(t0)
	fake := New(token, clock.Now)
	for _, o := range []fakeapi.Order{
		{Seq: 1, Code: "ALICE10", Currency: "USD", Total: 40, Created: t0.Add(-50 * time.Minute)},
		{Seq: 2, Code: "ALICE10", Currency: "JPY", Total: 1200, Created: t0.Add(-40 * time.Minute)},
		{Seq: 3, Code: "ALICE10", Currency: "KWD", Total: 12.5, Created: t0.Add(-30 * time.Minute), Updated: t0.Add(-5 * time.Minute), Refunded: 2.25},
		{Seq: 1, Code: "BOB15", Currency: "EUR", Total: 9.99, Created: t0.Add(-20 * time.Minute), Updated: t0.Add(5 * time.Minute), Cancelled: true},
		{Seq: 1, Currency: "USD", Total: 5, Created: t0.Add(-10 * time.Minute)},
		{Seq: 9, Code: "LATER", Currency: "USD", Total: 5, Created: t0.Add(time.Hour)},
	} {
		if o.Updated.IsZero() {
			o.Updated = o.Created
		}
		fake.AddOrder(o)
	}
	return fake, clock, exportertest.Serve(t, fake)
}

func TestAuth(t *testing.T) {
	_, _, base := newServer(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(token+":"))
	wrong := "sk_test_WRONGwrongWRONG9876"
	tests := []struct {
		auth    string
		status  int
		message string
	}{
		{"", 401, "You did not provide an API key."},
		{"Bearer " + wrong, 401, "Invalid API Key provided: sk_test_***************9876"},
		{"Bearer " + token, 200, ""},
		{basic, 200, ""},
	}
	for _, tt := range tests {
		var e stripeError
		code, h := exportertest.GetJSON(t, base+"/v1/checkout/sessions", tt.auth, &e)
		if code != tt.status || !strings.HasPrefix(e.Error.Message, tt.message) {
			t.Errorf("auth %q: %d %+v", tt.auth, code, e)
		}
		if tt.status == 401 && (e.Error.Type != "invalid_request_error" || strings.Contains(e.Error.Message, wrong)) {
			t.Errorf("auth %q: %+v", tt.auth, e)
		}
		if !strings.HasPrefix(h.Get("Request-Id"), "req_") || h.Get("Stripe-Version") != DefaultAPIVersion {
			t.Errorf("auth %q: headers %v", tt.auth, h)
		}
	}
}

func get(t *testing.T, url string, header map[string]string, v any) int {
	t.Helper()
	if header == nil {
		header = map[string]string{}
	}
	header["Authorization"] = "Bearer " + token
	code, _, body := exportertest.RawGet(t, url, header)
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return code
}

func TestSessions(t *testing.T) {
	_, clock, base := newServer(t)
	// Newest first, two a page, the order without a code included, the
	// one in the future not yet.
	var ids []string
	after := ""
	for page := 0; ; page++ {
		var l sessionList
		u := base + "/v1/checkout/sessions?status=complete&limit=2&expand[]=data.total_details.breakdown"
		if after != "" {
			u += "&starting_after=" + after
		}
		if code := get(t, u, nil, &l); code != 200 || l.Object != "list" || l.URL != "/v1/checkout/sessions" {
			t.Fatalf("page %d: %d %+v", page, code, l)
		}
		for _, s := range l.Data {
			ids = append(ids, s.ID)
			if s.TotalDetails.Breakdown == nil {
				t.Errorf("%s: breakdown not expanded", s.ID)
			}
		}
		if !l.HasMore {
			break
		}
		after = l.Data[len(l.Data)-1].ID
	}
	if len(ids) != 5 {
		t.Fatalf("sessions %v, want 5", ids)
	}
	// Minor units per currency, and created filters.
	var l sessionList
	since := t0.Add(-45 * time.Minute).Unix()
	get(t, fmt.Sprintf("%s/v1/checkout/sessions?limit=100&created[gte]=%d&created[lt]=%d", base, since, t0.Add(-25*time.Minute).Unix()), nil, &l)
	got := map[string]int64{}
	for _, s := range l.Data {
		got[s.Currency] = s.AmountTotal
		if s.TotalDetails.Breakdown != nil || len(s.Discounts) != 1 {
			t.Errorf("%s: %+v", s.ID, s)
		}
	}
	if want := map[string]int64{"jpy": 1200, "kwd": 12500}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("amounts %v, want %v", got, want)
	}
	// The discounts field exists from 2025-01-27 on, and so does its
	// expansion.
	var old sessionList
	get(t, base+"/v1/checkout/sessions?limit=1", map[string]string{"Stripe-Version": "2024-06-20"}, &old)
	if len(old.Data) != 1 || old.Data[0].Discounts != nil {
		t.Errorf("old version: %+v", old)
	}
	var e stripeError
	code := get(t, base+"/v1/checkout/sessions?expand[]=data.discounts.promotion_code", map[string]string{"Stripe-Version": "2024-06-20"}, &e)
	if code != 400 || e.Error.Message != "This property cannot be expanded (discounts)." {
		t.Errorf("old version expansion: %d %+v", code, e)
	}
	clock.Advance(2 * time.Hour)
	get(t, base+"/v1/checkout/sessions?limit=100", nil, &l)
	if len(l.Data) != 6 {
		t.Errorf("after the future order: %d sessions", len(l.Data))
	}
}

func TestBadRequests(t *testing.T) {
	_, _, base := newServer(t)
	tests := []struct {
		path, version string
		status        int
		code, param   string
	}{
		{"/v1/checkout/sessions?limit=101", "", 400, "parameter_invalid_integer", "limit"},
		{"/v1/checkout/sessions?foo=1", "", 400, "parameter_unknown", "foo"},
		{"/v1/checkout/sessions?created[gte]=soon", "", 400, "parameter_invalid_integer", "created[gte]"},
		{"/v1/checkout/sessions?starting_after=cs_nope", "", 400, "resource_missing", "starting_after"},
		{"/v1/refunds?status=succeeded", "", 400, "parameter_unknown", "status"},
		{"/v1/promotion_codes/promo_nope", "", 404, "resource_missing", "promotion_code"},
		{"/v1/charges", "", 404, "", ""},
		{"/v1/refunds", "latest", 400, "", ""},
	}
	for _, tt := range tests {
		var e stripeError
		h := map[string]string{}
		if tt.version != "" {
			h["Stripe-Version"] = tt.version
		}
		code := get(t, base+tt.path, h, &e)
		if code != tt.status || e.Error.Code != tt.code || e.Error.Param != tt.param || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
			t.Errorf("%s: %d %+v", tt.path, code, e)
		}
	}
}

func TestPromotionCodesAndRefunds(t *testing.T) {
	fake, clock, base := newServer(t)
	fake.RedeemOutsideCheckout("alice10", 4)
	var codes struct {
		Data []struct {
			ID            string `json:"id"`
			Code          string `json:"code"`
			TimesRedeemed int    `json:"times_redeemed"`
			Coupon        struct {
				PercentOff int `json:"percent_off"`
			} `json:"coupon"`
		} `json:"data"`
	}
	get(t, base+"/v1/promotion_codes?code=alice10", nil, &codes)
	if len(codes.Data) != 1 || codes.Data[0].Code != "ALICE10" || codes.Data[0].TimesRedeemed != 3+4 || codes.Data[0].Coupon.PercentOff != 10 {
		t.Errorf("code filter: %+v", codes)
	}
	var one struct {
		Code string `json:"code"`
	}
	if code := get(t, base+"/v1/promotion_codes/"+codes.Data[0].ID, nil, &one); code != 200 || one.Code != "ALICE10" {
		t.Errorf("retrieve: %d %+v", code, one)
	}

	type refunds struct {
		Data []struct {
			Amount        int64  `json:"amount"`
			Currency      string `json:"currency"`
			Status        string `json:"status"`
			PaymentIntent string `json:"payment_intent"`
		} `json:"data"`
	}
	var r refunds
	get(t, base+"/v1/refunds", nil, &r)
	if len(r.Data) != 1 || r.Data[0].Amount != 2250 || r.Data[0].Currency != "kwd" || r.Data[0].Status != "succeeded" || !strings.HasPrefix(r.Data[0].PaymentIntent, "pi_") {
		t.Errorf("refunds: %+v", r)
	}
	// BOB15's order is cancelled five minutes from now: refunded in full.
	clock.Advance(5 * time.Minute)
	get(t, base+"/v1/refunds", nil, &r)
	if len(r.Data) != 2 || r.Data[0].Amount != 999 || r.Data[0].Currency != "eur" {
		t.Errorf("refunds after the cancellation: %+v", r)
	}
}

func TestStreamAndFaults(t *testing.T) {
	clock := exportertest.NewManualClock(t0)
	fake := New(token, clock.Now)
	fake.AddStream(fakeapi.OrderStream{Code: "CAROL", PerMinute: 1, Amount: 20, Currency: "USD", Initial: 3})
	base := exportertest.Serve(t, fake)
	clock.Advance(2 * time.Minute)
	var l sessionList
	get(t, base+"/v1/checkout/sessions?limit=100", nil, &l)
	if len(l.Data) != 5 {
		t.Errorf("stream sessions: %d, want 5", len(l.Data))
	}
	fake.Faults.Set(fakeapi.RateLimited, 1)
	var e stripeError
	if code := get(t, base+"/v1/refunds", nil, &e); code != http.StatusTooManyRequests || e.Error.Code != "rate_limit" {
		t.Errorf("rate limited: %d %+v", code, e)
	}
	fake.SetRateLimit(1)
	get(t, base+"/v1/refunds", nil, nil)
	if code := get(t, base+"/v1/refunds", nil, &e); code != http.StatusTooManyRequests || e.Error.Code != "rate_limit" {
		t.Errorf("over the rate limit: %d %+v", code, e)
	}
	if got := fake.Requests("/v1/refunds"); got != 3 {
		t.Errorf("requests to /v1/refunds: %d, want 3", got)
	}
	if got := fake.Returned("/v1/checkout/sessions"); got != 5 {
		t.Errorf("sessions returned: %d, want 5", got)
	}
}

func TestMaskKey(t *testing.T) {
	for key, want := range map[string]string{
		"sk_test_abcdefgh1234": "sk_test_********1234",
		"rk_live_xyz":          "rk_live_***",
		"whatever-key-5678":    "*************5678",
	} {
		if got := MaskKey(key); got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", key, got, want)
		}
	}
}
