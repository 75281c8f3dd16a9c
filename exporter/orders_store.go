package exporter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// An order book kept in Storage. The book saves itself whenever a
// listing's pass ends (the only time its watermark moves); a pass under way
// is not kept, so after a restart it starts again from the last watermark,
// and orders read twice count once. A book is only taken back for the same
// scope: the collector's type, shop URL, options, and codes with their
// campaigns' starts. Any change there (a code added, a campaign start
// moved earlier) starts a full count, as a reload did before.

// bookState is an order book as Storage keeps it.
type bookState struct {
	Scope    string                  `json:"scope"`
	Orders   []Order                 `json:"orders"`
	Listings map[string]listingState `json:"listings"`
}

type listingState struct {
	Watermark time.Time `json:"watermark"`
}

// storedBook is where a book saves itself.
type storedBook struct {
	storage   *Storage
	collector string
	scope     string
}

// bookScope identifies what a collector's book counts.
func bookScope(cc *CollectorConfig, codes []CodeRef) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", cc.Type, cc.BaseURL)
	if opts, err := yaml.Marshal(&cc.Options); err == nil {
		h.Write(opts)
	}
	keys := make([]string, 0, len(codes))
	for _, c := range codes {
		start := ""
		if c.Start != nil {
			start = c.Start.UTC().Format(time.RFC3339Nano)
		}
		keys = append(keys, strings.ToLower(c.Code.Code)+"\x00"+c.Campaign+"\x00"+start)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k + "\x01"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StoredOrderBook returns the collector's order book for codes: the one s
// kept for the same scope, else an empty one (each listing's first pass a
// full count). The book saves itself to s whenever a listing's pass ends.
// With a nil s it is NewOrderBook.
func StoredOrderBook(s *Storage, cc *CollectorConfig, codes []CodeRef) *OrderBook {
	b := NewOrderBook()
	if s == nil {
		return b
	}
	scope := bookScope(cc, codes)
	b.store = &storedBook{storage: s, collector: cc.Name, scope: scope}
	var st bookState
	if !s.Load(cc.Name, "orders", &st) {
		return b
	}
	if st.Scope != scope {
		s.logger.Info("stored orders are for another configuration of the collector: counting from the campaign start", "collector", cc.Name)
		return b
	}
	for _, o := range st.Orders {
		b.orders[o.ID] = o
	}
	for name, l := range st.Listings {
		b.listings[name] = &listing{watermark: l.Watermark, done: true}
	}
	s.logger.Info("stored orders loaded: listings continue from their watermarks", "collector", cc.Name, "orders", len(st.Orders), "listings", len(st.Listings))
	return b
}

// stateLocked returns what the book keeps: its orders and the watermarks
// of listings that ended a pass. Call with b.mu held.
func (b *OrderBook) stateLocked() bookState {
	st := bookState{Scope: b.store.scope, Orders: make([]Order, 0, len(b.orders)), Listings: map[string]listingState{}}
	for _, o := range b.orders {
		st.Orders = append(st.Orders, o)
	}
	slices.SortFunc(st.Orders, func(a, b Order) int { return strings.Compare(a.ID, b.ID) })
	for name, l := range b.listings {
		if l.done {
			st.Listings[name] = listingState{Watermark: l.watermark}
		}
	}
	return st
}
