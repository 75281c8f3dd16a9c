package woocommercefake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const (
	key    = "ck_fake0key"
	secret = "cs_fake0secret"
)

var start = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	now := start
	fake := New(key+":"+secret, func() time.Time { return now })
	now = start.Add(10 * time.Minute)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	// 2 before the start, then 1 a minute: 12; every 3rd cancelled a
	// minute after it was placed.
	fake.AddStream(fakeapi.OrderStream{Code: "ALICE10", PerMinute: 1, Amount: 50, Currency: "EUR", Initial: 2, CancelEvery: 3, CancelAfter: time.Minute})
	fake.AddCode("Bob15")
	return fake, srv
}

type wpError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status int               `json:"status"`
		Params map[string]string `json:"params"`
	} `json:"data"`
}

func get(t *testing.T, u string, auth bool, v any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth {
		req.SetBasicAuth(key, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", u, err, b)
		}
	}
	return resp
}

func TestAuth(t *testing.T) {
	_, srv := newServer(t)
	base := srv.URL + APIPrefix + "/coupons"
	tests := []struct {
		name   string
		user   string
		pass   string
		query  string
		status int
		code   string
	}{
		{"no credentials", "", "", "", 401, "woocommerce_rest_cannot_view"},
		{"unknown key", "ck_nope", secret, "", 401, "woocommerce_rest_cannot_view"},
		{"wrong secret", key, "cs_nope", "", 401, "woocommerce_rest_authentication_error"},
		{"query parameters", "", "", "?consumer_key=" + key + "&consumer_secret=" + secret, 200, ""},
		{"basic auth", key, secret, "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+tt.query, nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e wpError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || e.Code != tt.code || (tt.code != "" && e.Data.Status != tt.status) {
				t.Errorf("%d %+v", resp.StatusCode, e)
			}
		})
	}
}

func TestCoupons(t *testing.T) {
	_, srv := newServer(t)
	type coupon struct {
		ID         int    `json:"id"`
		Code       string `json:"code"`
		UsageCount int    `json:"usage_count"`
	}
	for code, want := range map[string]string{"alice10": "alice10", "ALICE10": "alice10", "bob15": "bob15", "nope": ""} {
		var list []coupon
		get(t, srv.URL+APIPrefix+"/coupons?code="+code, true, &list)
		switch {
		case want == "" && len(list) != 0, want != "" && (len(list) != 1 || list[0].Code != want):
			t.Errorf("code %s: %+v", code, list)
		}
	}
	var list []coupon
	get(t, srv.URL+APIPrefix+"/coupons?code=alice10", true, &list)
	// 12 orders, 2 of them status cancelled (seq 3 and 9); the refunded
	// ones (6, 12 is not yet) keep their use.
	if list[0].UsageCount != 10 {
		t.Errorf("usage_count %d, want 10", list[0].UsageCount)
	}
}

func TestOrders(t *testing.T) {
	fake, srv := newServer(t)
	type order struct {
		ID              int     `json:"id"`
		Status          string  `json:"status"`
		Total           string  `json:"total"`
		DateCreated     string  `json:"date_created"`
		DateCreatedGMT  string  `json:"date_created_gmt"`
		DateModifiedGMT string  `json:"date_modified_gmt"`
		DatePaidGMT     *string `json:"date_paid_gmt"`
		CouponLines     []struct {
			Code string `json:"code"`
		} `json:"coupon_lines"`
		Refunds []struct {
			Total string `json:"total"`
		} `json:"refunds"`
	}
	var all []order
	resp := get(t, srv.URL+APIPrefix+"/orders?per_page=100&orderby=id&order=asc", true, &all)
	if len(all) != 12 || resp.Header.Get("X-WP-Total") != "12" || resp.Header.Get("X-WP-TotalPages") != "1" {
		t.Fatalf("%d orders, headers %v", len(all), resp.Header)
	}
	o := all[2] // seq 3: placed at start+1m, cancelled at start+2m
	if o.ID != 1000003 || o.Status != StatusCancelled || o.DateCreatedGMT != "2026-05-01T12:01:00" ||
		o.DateCreated != "2026-05-01T14:01:00" || o.DateModifiedGMT != "2026-05-01T12:02:00" ||
		o.DatePaidGMT == nil || len(o.CouponLines) != 1 || o.CouponLines[0].Code != "alice10" || len(o.Refunds) != 1 || o.Refunds[0].Total != "-"+o.Total {
		// A stream's cancelled order was refunded (since issue #13).
		t.Errorf("cancelled order: %+v", o)
	}
	if o := all[5]; o.Status != StatusRefunded || len(o.Refunds) != 1 || o.Refunds[0].Total != "-"+o.Total {
		t.Errorf("refunded order: %+v", o)
	}

	// Three pages of five, with the headers WordPress sends.
	var ids []int
	for page := 1; page <= 3; page++ {
		var list []order
		resp := get(t, srv.URL+APIPrefix+"/orders?per_page=5&orderby=id&order=asc&page="+strconv.Itoa(page), true, &list)
		if resp.Header.Get("X-WP-TotalPages") != "3" {
			t.Errorf("page %d: X-WP-TotalPages %q", page, resp.Header.Get("X-WP-TotalPages"))
		}
		if next := strings.Contains(resp.Header.Get("Link"), `rel="next"`); next != (page < 3) {
			t.Errorf("page %d: Link %q", page, resp.Header.Get("Link"))
		}
		for _, o := range list {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) != 12 || ids[0] != all[0].ID || ids[11] != all[11].ID {
		t.Errorf("paged ids %v", ids)
	}

	// Modified after 12:05 GMT, given in GMT and in the site's time.
	for _, q := range []string{"modified_after=2026-05-01T12:05:00&dates_are_gmt=true", "modified_after=2026-05-01T14:05:00"} {
		var list []order
		get(t, srv.URL+APIPrefix+"/orders?"+q, true, &list)
		// Placed 12:06…12:10 (seq 8–12); seq 6 was refunded at 12:05,
		// not after.
		if len(list) != 5 {
			t.Errorf("%s: %d orders", q, len(list))
		}
	}

	var trimmed []map[string]any
	get(t, srv.URL+APIPrefix+"/orders?_fields=id,total&per_page=1", true, &trimmed)
	if len(trimmed) != 1 || len(trimmed[0]) != 2 {
		t.Errorf("_fields: %v", trimmed)
	}

	id := fake.PutOrder(Order{Status: StatusPending, Currency: "USD", Total: 20, Coupons: []string{"BOB15"}, Created: start})
	var pending []order
	get(t, srv.URL+APIPrefix+"/orders?status=pending", true, &pending)
	if len(pending) != 1 || pending[0].ID != id || pending[0].DatePaidGMT != nil || pending[0].CouponLines[0].Code != "bob15" {
		t.Errorf("pending: %+v", pending)
	}
	if fake.OrderPages() != 8 || fake.OrdersServed() != 12+12+5+5+1+1 {
		t.Errorf("pages %d, orders served %d", fake.OrderPages(), fake.OrdersServed())
	}
}

func TestErrors(t *testing.T) {
	fake, srv := newServer(t)
	for _, tt := range []struct {
		path, code, param string
		status            int
	}{
		{"/orders?per_page=101", "rest_invalid_param", "per_page", 400},
		{"/orders?page=0", "rest_invalid_param", "page", 400},
		{"/orders?modified_after=yesterday", "rest_invalid_param", "modified_after", 400},
		{"/orders?orderby=total", "rest_invalid_param", "orderby", 400},
		{"/nothing", "rest_no_route", "", 404},
	} {
		var e wpError
		resp := get(t, srv.URL+APIPrefix+tt.path, true, &e)
		if resp.StatusCode != tt.status || e.Code != tt.code || (tt.param != "" && e.Data.Params[tt.param] == "") {
			t.Errorf("%s: %d %+v", tt.path, resp.StatusCode, e)
		}
	}
	fake.Faults.SetRetryAfter(time.Second)
	fake.Faults.Set(fakeapi.RateLimited, 1)
	var e wpError
	if resp := get(t, srv.URL+APIPrefix+"/orders", true, &e); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || e.Data.Status != 429 {
		t.Errorf("rate limited: %d %+v", resp.StatusCode, e)
	}
	fake.Faults.Set(fakeapi.ServerError, 1)
	if resp := get(t, srv.URL+APIPrefix+"/orders", true, &e); resp.StatusCode != 500 || e.Code != "internal_server_error" {
		t.Errorf("server error: %d %+v", resp.StatusCode, e)
	}
}

// TestDateHeader: answers carry the store's time, the fake's clock, as a
// web server's Date header does; the /orders pages asked for are recorded.
func TestDateHeader(t *testing.T) {
	fake, srv := newServer(t)
	var list []map[string]any
	resp := get(t, srv.URL+APIPrefix+"/orders?per_page=5&page=2&modified_after=2026-05-01T12:00:00", true, &list)
	if got, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !got.Equal(start.Add(10*time.Minute)) {
		t.Errorf("Date %q, want %s", resp.Header.Get("Date"), start.Add(10*time.Minute).Format(http.TimeFormat))
	}
	want := []OrdersRequest{{Page: 2, ModifiedAfter: "2026-05-01T12:00:00", Orders: len(list)}}
	if got := fake.OrdersRequests(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("OrdersRequests() = %+v, want %+v", got, want)
	}
}
