package woocommerce_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// rewrite serves the fake's answers to path with each JSON object of the
// list passed through edit (as a map), the rest unchanged.
func rewrite(fake http.Handler, path string, edit func(map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			fake.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		var list []map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &list) != nil {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		for _, o := range list {
			edit(o)
		}
		b, _ := json.Marshal(list)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(b)
	})
}

// TestTolerantDecoding: ids and counts sent as JSON strings are read; an
// order whose amount or id cannot be read fails only its codes (missing,
// with the reason), never the refresh; read again readable, it counts.
func TestTolerantDecoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(o map[string]any, ids map[int]float64)
		// want is the redemptions by code, gaps the codes reported
		// missing with the reason they contain.
		want, gaps, reason string
	}{
		{"ids as strings", func(o map[string]any, _ map[int]float64) {
			o["id"] = strconv.FormatFloat(o["id"].(float64), 'f', -1, 64)
		}, "map[alice10:2 bob15:1]", "", ""},
		{"unreadable total", func(o map[string]any, ids map[int]float64) {
			if o["id"] == ids[2] {
				o["total"] = "12,50"
			}
		}, "map[bob15:1]", "alice10", `cannot be read, so the code's orders are not counted: malformed response: total "12,50" is not an amount`},
		{"unreadable id", func(o map[string]any, ids map[int]float64) {
			if o["id"] == ids[3] {
				o["id"] = "#3"
			}
		}, "map[alice10:2]", "bob15", `order #3 cannot be read, so the code's orders are not counted: malformed response: exporter: not an integer: "#3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			sb.fake.AddCode("alice10")
			sb.fake.AddCode("bob15")
			at := start.Add(-time.Hour)
			ids := map[int]float64{}
			for i, o := range []woocommercefake.Order{
				paidOrder("processing", "EUR", 40, at, "alice10"),
				paidOrder("processing", "EUR", 12.5, at, "alice10"),
				paidOrder("processing", "EUR", 7, at, "bob15"),
			} {
				ids[i+1] = float64(sb.fake.PutOrder(o))
			}
			broken := true
			h := rewrite(sb.fake, woocommercefake.APIPrefix+"/orders", func(o map[string]any) {
				if broken {
					tc.edit(o, ids)
				}
			})
			h = rewrite(h, woocommercefake.APIPrefix+"/coupons", func(o map[string]any) {
				o["id"] = strconv.FormatFloat(o["id"].(float64), 'f', -1, 64)
				o["usage_count"] = strconv.FormatFloat(o["usage_count"].(float64), 'f', -1, 64)
			})
			url := exportertest.Serve(t, h)
			env := exportertest.Build(t, configAt(url, `{}`, spring+`
      - name: alice
        codes:
          - {collector: woocommerce, code: alice10}
      - name: bob
        codes:
          - {collector: woocommerce, code: bob15}
`))
			samples, err := poll(t, env)
			if got := redemptions(samples); got != tc.want {
				t.Errorf("redemptions %s, want %s", got, tc.want)
			}
			if tc.gaps == "" {
				if err != nil {
					t.Fatalf("err %v, want none", err)
				}
				return
			}
			objs, rest := exportertest.ObjectErrors(t, err)
			if len(objs) != 1 || len(rest) != 0 || objs[0].Object.ID != tc.gaps || objs[0].Skipped ||
				!errors.Is(objs[0], exporter.ErrBadResponse) || !strings.Contains(objs[0].Error(), tc.reason) {
				t.Fatalf("object errors %v, others %v; want %s missing: %s", objs, rest, tc.gaps, tc.reason)
			}
			// Fixed in the store (modified), the order is read again and counts.
			broken = false
			for i := 1; i <= 3; i++ {
				o := paidOrder("processing", "EUR", []float64{40, 12.5, 7}[i-1], at, []string{"alice10", "alice10", "bob15"}[i-1])
				o.ID, o.Modified = int(ids[i]), start.Add(time.Minute)
				sb.fake.PutOrder(o)
			}
			sb.clock.Add(5 * time.Minute)
			if got := redemptions(mustPoll(t, env)); got != "map[alice10:2 bob15:1]" {
				t.Errorf("after the fix: redemptions %s", got)
			}
		})
	}
}

func redemptions(samples []exporter.Sample) string {
	out := map[string]float64{}
	for _, s := range samples {
		if s.Metric == exporter.CodeRedemptions {
			out[s.Label("code")] = s.Value
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(fmtMap(out), "  ", " "))
}

func fmtMap(m map[string]float64) string {
	b, _ := json.Marshal(m)
	s := strings.NewReplacer(`"`, "", "{", "map[", "}", "]", ",", " ").Replace(string(b))
	return s
}
