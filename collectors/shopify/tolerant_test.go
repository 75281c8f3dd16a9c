package shopify_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestUnreadableOrder: an order whose amount cannot be read fails only
// its code (missing, with the reason), never the refresh; once the order
// reads again (changed in the shop), the code counts. Cost numbers sent
// as strings are read.
func TestUnreadableOrder(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddOrder(fakeapi.Order{Seq: 1, Code: "ALICE10", Currency: "EUR", Total: 12.5, Created: start.Add(time.Minute)})
	sb.fake.AddOrder(fakeapi.Order{Seq: 1, Code: "BOB15", Currency: "EUR", Total: 7, Created: start.Add(2 * time.Minute)})
	sb.at(5 * time.Minute)
	var broken atomic.Bool
	broken.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sb.fake.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if broken.Load() {
			body = bytes.ReplaceAll(body, []byte(`"amount":"12.5"`), []byte(`"amount":"12,5"`))
		}
		// Quoted cost numbers, as some proxies send them.
		body = bytes.ReplaceAll(body, []byte(`"actualQueryCost":`), []byte(`"actualQueryCost":"`))
		body = bytes.ReplaceAll(body, []byte(`,"throttleStatus"`), []byte(`","throttleStatus"`))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	cfg := strings.Replace(sb.config("", "{}", spring("ALICE10", "BOB15")), sb.srv.URL, srv.URL, 1)
	env := exportertest.Build(t, cfg)
	samples, err := poll(t, env)
	objs, rest := exportertest.ObjectErrors(t, err)
	if len(objs) != 1 || len(rest) != 0 || objs[0].Object.ID != "ALICE10" || objs[0].Skipped ||
		!errors.Is(objs[0], exporter.ErrBadResponse) || !strings.Contains(objs[0].Error(), `cannot be read, so the code's orders are not counted`) ||
		!strings.Contains(objs[0].Error(), `totalPriceSet amount "12,5"`) {
		t.Fatalf("object errors %v, others %v; want ALICE10 missing for its unreadable order", objs, rest)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="BOB15",creator="creator2",provider="shopify"} 1`), exporter.CodeRedemptions.Name)

	broken.Store(false)
	sb.fake.AddOrder(fakeapi.Order{Seq: 1, Code: "ALICE10", Currency: "EUR", Total: 12.5, Created: start.Add(time.Minute), Updated: start.Add(6 * time.Minute)})
	sb.at(8 * time.Minute)
	samples, err = poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 1`,
		`influencer_code_redemptions_total{campaign="spring",code="BOB15",creator="creator2",provider="shopify"} 1`), exporter.CodeRedemptions.Name)
}
