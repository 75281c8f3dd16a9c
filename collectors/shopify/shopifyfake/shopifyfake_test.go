package shopifyfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "shpat_fake_token"

var start = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	now := start
	fake := New(token, func() time.Time { return now })
	now = start.Add(10 * time.Minute)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	// 5 orders before the start, then one a minute: 15 at the clock.
	fake.AddStream(fakeapi.OrderStream{Code: "SPRING-ALICE", PerMinute: 1, Amount: 40, Currency: "USD", Initial: 5, CancelEvery: 4, CancelAfter: time.Minute})
	fake.AddCode("BOB10")
	fake.AddOrder(fakeapi.Order{Code: "bob10", Currency: "USD", Total: 12.5, Created: start.Add(time.Minute)})
	return fake, srv
}

type answer struct {
	status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors json.RawMessage            `json:"errors"`
	Ext    struct {
		Cost *struct {
			Requested      int  `json:"requestedQueryCost"`
			Actual         *int `json:"actualQueryCost"`
			ThrottleStatus struct {
				Max       float64 `json:"maximumAvailable"`
				Available float64 `json:"currentlyAvailable"`
				Rate      float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
		Search []struct {
			Warnings []struct{ Field, Message string } `json:"warnings"`
		} `json:"search"`
	} `json:"extensions"`
}

func post(t *testing.T, url, tok, query string, vars map[string]any) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	status, _, b := send(t, req, tok)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	a.status = status
	return a
}

// send sends req with the access token tok (none if "") and returns the
// answer's status, header and body.
func send(t *testing.T, req *http.Request, tok string) (int, http.Header, []byte) {
	t.Helper()
	if tok != "" {
		req.Header.Set("X-Shopify-Access-Token", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func gqlURL(srv *httptest.Server) string { return srv.URL + "/admin/api/2026-10/graphql.json" }

func TestAuthAndPaths(t *testing.T) {
	_, srv := newServer(t)
	for _, tok := range []string{"", "wrong"} {
		a := post(t, gqlURL(srv), tok, "{ shop { name } }", nil)
		var msg string
		if a.status != 401 || json.Unmarshal(a.Errors, &msg) != nil || msg != InvalidTokenMessage {
			t.Errorf("token %q: %d %s", tok, a.status, a.Errors)
		}
	}
	if a := post(t, srv.URL+"/admin/api/2026-11/graphql.json", token, "{ shop { name } }", nil); a.status != 404 {
		t.Errorf("bad version: %d", a.status)
	}
	a := post(t, gqlURL(srv), token, "{ shop { name } }", nil)
	if a.status != 200 || string(a.Data["shop"]) != `{"name":"Sandbox shop"}` || a.Ext.Cost.Requested != 1 {
		t.Errorf("shop: %d %s %+v", a.status, a.Data["shop"], a.Ext.Cost)
	}
	for _, q := range []string{"{ shop { nope } }", "{ shop ", "mutation { x }", "{ shop }"} {
		if a := post(t, gqlURL(srv), token, q, nil); a.status != 200 || len(a.Errors) == 0 || a.Data != nil {
			t.Errorf("%q: %d %s", q, a.status, a.Errors)
		}
	}
}

const ordersQuery = `query Orders($first: Int!, $after: String, $q: String) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    nodes { id updatedAt cancelledAt discountCodes totalPriceSet { shopMoney { amount currencyCode } } totalRefundedSet { shopMoney { amount } } }
    pageInfo { hasNextPage endCursor }
  }
}`

type ordersData struct {
	Nodes []struct {
		ID            string  `json:"id"`
		UpdatedAt     string  `json:"updatedAt"`
		CancelledAt   *string `json:"cancelledAt"`
		DiscountCodes []string
		TotalPriceSet struct {
			ShopMoney struct{ Amount, CurrencyCode string } `json:"shopMoney"`
		} `json:"totalPriceSet"`
	} `json:"nodes"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

func TestOrdersPagesAndSearch(t *testing.T) {
	fake, srv := newServer(t)
	tests := []struct {
		query string
		want  int
		warn  string
	}{
		{"", 16, ""},
		{"discount_code:spring-alice", 15, ""},
		{"(discount_code:SPRING-ALICE OR discount_code:'bob10') AND created_at:>='2026-05-01T12:00:00Z'", 11, ""},
		{"discount_code:spring-alice AND updated_at:>='2026-05-01T12:05:00Z'", 6, ""}, // orders 10..15; order 8 was cancelled at 12:04
		{"-discount_code:bob10", 15, ""},
		{"discount_code:bob10 colour:red", 1, "colour: Invalid search field for this query."},
	}
	for _, tt := range tests {
		var got int
		var after any
		for page := 0; ; page++ {
			a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 4, "after": after, "q": tt.query})
			if a.status != 200 || len(a.Errors) > 0 {
				t.Fatalf("%q: %d %s", tt.query, a.status, a.Errors)
			}
			if a.Ext.Cost.Requested != 2+4*5 {
				t.Errorf("requested cost %d, want 22", a.Ext.Cost.Requested)
			}
			var d ordersData
			if err := json.Unmarshal(a.Data["orders"], &d); err != nil {
				t.Fatal(err)
			}
			if *a.Ext.Cost.Actual != 2+len(d.Nodes)*5 {
				t.Errorf("actual cost %d for %d nodes", *a.Ext.Cost.Actual, len(d.Nodes))
			}
			got += len(d.Nodes)
			if len(a.Ext.Search) > 0 {
				if w := a.Ext.Search[0].Warnings; len(w) != 1 || w[0].Field+": "+w[0].Message != tt.warn {
					t.Errorf("%q: warnings %+v", tt.query, w)
				}
			} else if tt.warn != "" {
				t.Errorf("%q: no warning", tt.query)
			}
			if !d.PageInfo.HasNextPage {
				break
			}
			after = d.PageInfo.EndCursor
		}
		if got != tt.want {
			t.Errorf("%q: %d orders, want %d", tt.query, got, tt.want)
		}
	}
	if st := fake.Stats(); st.Throttled != 0 || len(st.Warnings) == 0 {
		t.Errorf("stats %+v", st)
	}
	a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 251})
	if len(a.Errors) == 0 {
		t.Error("first: 251 accepted")
	}
	a = post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 199}) // 2+199×5 = 997
	if len(a.Errors) != 0 {
		t.Errorf("first: 199: %s", a.Errors)
	}
	a = post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 200}) // 1002
	if !strings.Contains(string(a.Errors), "MAX_COST_EXCEEDED") {
		t.Errorf("first: 200: %s", a.Errors)
	}
}

// TestPaginationLimit: a page reaching past the pagination limit is
// refused; a new search from where the last one stopped is not.
func TestPaginationLimit(t *testing.T) {
	fake, srv := newServer(t)
	fake.SetPaginationLimit(10)
	var after any
	for page := 0; page < 2; page++ {
		a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 4, "after": after})
		var d ordersData
		if err := json.Unmarshal(a.Data["orders"], &d); err != nil || len(d.Nodes) != 4 {
			t.Fatalf("page %d: %s %s", page+1, a.Data, a.Errors)
		}
		after = d.PageInfo.EndCursor
	}
	if a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 4, "after": after}); a.status != 200 || a.Data != nil ||
		!strings.Contains(string(a.Errors), "Pagination is limited to 10 objects") {
		t.Errorf("page 3, objects 9-12: %d %s %s", a.status, a.Data, a.Errors)
	}
	if a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 2, "after": after}); len(a.Errors) != 0 {
		t.Errorf("objects 9-10: %s", a.Errors)
	}
	if a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 4, "q": "updated_at:>='2026-05-01T12:05:00Z'"}); len(a.Errors) != 0 {
		t.Errorf("a new search: %s", a.Errors)
	}
}

// TestFieldCost: a field priced above the default costs what it is set
// to, in the requested and the actual cost.
func TestFieldCost(t *testing.T) {
	fake, srv := newServer(t)
	fake.SetFieldCost("codeDiscountNodeByCode", 300)
	q := `{ a: codeDiscountNodeByCode(code: "spring-alice") { id } b: codeDiscountNodeByCode(code: "bob10") { id } c: codeDiscountNodeByCode(code: "nope") { id } }`
	a := post(t, gqlURL(srv), token, q, nil)
	if len(a.Errors) != 0 || a.Ext.Cost.Requested != 900 || *a.Ext.Cost.Actual != 600 {
		t.Errorf("%s %+v", a.Errors, a.Ext.Cost)
	}
	q = `{ a: codeDiscountNodeByCode(code: "a") { id } b: codeDiscountNodeByCode(code: "b") { id }
	       c: codeDiscountNodeByCode(code: "c") { id } d: codeDiscountNodeByCode(code: "d") { id } }`
	a = post(t, gqlURL(srv), token, q, nil)
	if !strings.Contains(string(a.Errors), "MAX_COST_EXCEEDED") || a.Ext.Cost.Requested != 1200 {
		t.Errorf("4 codes at 300: %s %+v", a.Errors, a.Ext.Cost)
	}
}

func TestMoneyAndCancellation(t *testing.T) {
	_, srv := newServer(t)
	a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 50, "q": "discount_code:SPRING-ALICE"})
	var d ordersData
	if err := json.Unmarshal(a.Data["orders"], &d); err != nil {
		t.Fatal(err)
	}
	cancelled := 0
	for _, n := range d.Nodes {
		if n.CancelledAt != nil {
			cancelled++
		}
		if n.TotalPriceSet.ShopMoney.CurrencyCode != "USD" || !strings.Contains(n.TotalPriceSet.ShopMoney.Amount, ".") {
			t.Errorf("money %+v", n.TotalPriceSet)
		}
	}
	if cancelled != 3 { // orders 4, 8 and 12
		t.Errorf("%d cancelled, want 3", cancelled)
	}
}

func TestCodes(t *testing.T) {
	_, srv := newServer(t)
	q := `query($a: String!) { a: codeDiscountNodeByCode(code: $a) { id codeDiscount { __typename ... on DiscountCodeBasic { title asyncUsageCount } } } b: codeDiscountNodeByCode(code: "nope") { id } }`
	a := post(t, gqlURL(srv), token, q, map[string]any{"a": "spring-alice"})
	if string(a.Data["b"]) != "null" || !strings.Contains(string(a.Data["a"]), `"title":"SPRING-ALICE","asyncUsageCount":15`) {
		t.Errorf("codes: %s %s", a.Data, a.Errors)
	}
	if a.Ext.Cost.Requested != 3 {
		t.Errorf("requested %d, want 3", a.Ext.Cost.Requested)
	}
	if a := post(t, gqlURL(srv), token, q, nil); !strings.Contains(string(a.Errors), "Variable $a of type String! was provided invalid value") {
		t.Errorf("missing variable: %s", a.Errors)
	}
}

func TestThrottle(t *testing.T) {
	fake, srv := newServer(t)
	fake.SetBucket(100, 1000)
	a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 10})
	if len(a.Errors) != 0 || a.Ext.Cost.ThrottleStatus.Max != 100 || a.Ext.Cost.ThrottleStatus.Available < 100-52 {
		t.Fatalf("first query: %s %+v", a.Errors, a.Ext.Cost)
	}
	fake.SetAvailable(10)
	a = post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 10})
	if !strings.Contains(string(a.Errors), `"code":"THROTTLED"`) || a.Data != nil || a.Ext.Cost.Actual != nil || a.Ext.Cost.Requested != 52 {
		t.Errorf("drained bucket: %s %+v", a.Errors, a.Ext.Cost)
	}
	time.Sleep(60 * time.Millisecond) // 1000 points a second
	if a := post(t, gqlURL(srv), token, ordersQuery, map[string]any{"first": 10}); len(a.Errors) != 0 {
		t.Errorf("after restore: %s", a.Errors)
	}
	fake.ForceThrottle(1)
	if a := post(t, gqlURL(srv), token, "{ shop { name } }", nil); !strings.Contains(string(a.Errors), "THROTTLED") {
		t.Errorf("forced: %s", a.Errors)
	}
	if st := fake.Stats(); st.Throttled != 2 || st.Queries != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaults(t *testing.T) {
	fake, srv := newServer(t)
	fake.Faults.Set(fakeapi.ServerError, 1)
	if a := post(t, gqlURL(srv), token, "{ shop { name } }", nil); a.status != 500 || string(a.Errors) != `"Internal Server Error"` {
		t.Errorf("5xx: %d %s", a.status, a.Errors)
	}
	if fake.Faults.Hits() != 1 {
		t.Errorf("hits %d", fake.Faults.Hits())
	}
}
