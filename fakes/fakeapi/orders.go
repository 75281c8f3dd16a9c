package fakeapi

import (
	"fmt"
	"math"
	"time"
)

// Order is a shop order a fake serves, in neutral terms; each shop fake
// renders it in its own wire format (Shopify GraphQL, WooCommerce REST,
// Stripe checkout sessions).
type Order struct {
	// Seq numbers the orders of one stream from 1.
	Seq      int
	Code     string
	Currency string  // ISO 4217, upper case
	Total    float64 // major units
	Created  time.Time
	// Updated is Created, or the time of the cancellation.
	Updated   time.Time
	Cancelled bool
	// Refunded is the amount refunded, Total when cancelled.
	Refunded float64
}

// ID returns a stable id for the order, unique across streams.
func (o Order) ID(prefix string) string { return fmt.Sprintf("%s%s-%d", prefix, o.Code, o.Seq) }

// OrderStream is a discount code redeemed at a steady rate: order n (from
// 1) is created n/PerMinute minutes after the fake started, its total
// varies around Amount, and every CancelEvery-th order is cancelled and
// refunded CancelAfter later. Initial orders were placed before the start,
// one a minute.
type OrderStream struct {
	Code        string
	PerMinute   float64
	Amount      float64
	Currency    string
	Initial     int
	CancelEvery int
	CancelAfter time.Duration
}

// Orders returns the stream's orders as they are at now, oldest first.
func (s OrderStream) Orders(start, now time.Time) []Order {
	var out []Order
	n := s.Initial
	if s.PerMinute > 0 && now.After(start) {
		n += int(now.Sub(start).Minutes() * s.PerMinute)
	}
	for i := 1; i <= n; i++ {
		var created time.Time
		if i <= s.Initial {
			created = start.Add(-time.Duration(s.Initial-i+1) * time.Minute)
		} else {
			created = start.Add(time.Duration(float64(i-s.Initial) / s.PerMinute * float64(time.Minute)))
		}
		// Totals vary by up to ±30% in a fixed pattern, rounded to cents.
		total := math.Round(s.Amount*(1+0.3*math.Sin(float64(i)))*100) / 100
		o := Order{Seq: i, Code: s.Code, Currency: s.Currency, Total: total, Created: created, Updated: created}
		if s.CancelEvery > 0 && i%s.CancelEvery == 0 {
			if at := created.Add(s.CancelAfter); !at.After(now) {
				o.Cancelled, o.Refunded, o.Updated = true, total, at
			}
		}
		out = append(out, o)
	}
	return out
}
