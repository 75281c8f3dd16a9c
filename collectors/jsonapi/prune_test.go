package jsonapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testShape builds the shape of a config: the items path, the cursor path
// and the paths read in an item.
func testShape(t testing.TB, items, cursor string, itemPaths ...string) (*shape, bool) {
	t.Helper()
	itemsAt, err := parsePath(items)
	if err != nil {
		return nil, false
	}
	cursorAt, err := parsePath(cursor)
	if err != nil {
		return nil, false
	}
	var values []value
	for _, p := range itemPaths {
		at, err := parsePath(p)
		if err != nil {
			return nil, false
		}
		values = append(values, value{at: at})
	}
	return pageShape(itemsAt, cursorAt, true, nil, values), true
}

// decodePruned decodes data to the part s reads without an arena, as
// the decoder did before it had one: what the arena's decoding is
// checked against.
func decodePruned(data []byte, s *shape) (any, error) {
	return decodeInto(data, s, nil)
}

// sharedArena is the arena samePruned decodes every body into after the
// last, as a listing's pages are.
var sharedArena pageArena

// samePruned checks that what decodePruned gives for body reads as what
// encoding/json gives at every configured path: the cursor, the items
// (their number and kinds) and each item's paths. It checks the same of
// body decoded into sharedArena.
func samePruned(t *testing.T, body []byte, items, cursor string, itemPaths ...string) {
	t.Helper()
	s, ok := testShape(t, items, cursor, itemPaths...)
	if !ok {
		return
	}
	samePrunedInto(t, body, s, nil, items, cursor, itemPaths...)
	sharedArena.reset()
	samePrunedInto(t, body, s, &sharedArena, items, cursor, itemPaths...)
}

func samePrunedInto(t *testing.T, body []byte, s *shape, arena *pageArena, items, cursor string, itemPaths ...string) {
	t.Helper()
	got, err := decodeInto(body, s, arena)
	if !json.Valid(body) {
		if err == nil {
			t.Fatalf("decodePruned(%q) = %v, want an error for invalid JSON", body, got)
		}
		return
	}
	var want any
	if werr := json.Unmarshal(body, &want); werr != nil {
		// Valid, yet not decodable: a number out of float64's range,
		// which the pruned decoder only fails on where it reads.
		return
	}
	if err != nil {
		t.Fatalf("decodePruned(%q): %v; encoding/json decodes it", body, err)
	}
	itemsAt, _ := parsePath(items)
	cursorAt, _ := parsePath(cursor)
	if g, w := valueAt(cursorAt, got), valueAt(cursorAt, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%q: cursor %s = %#v, encoding/json %#v", body, cursor, g, w)
	}
	gotItems, gerr := itemsOf(got, itemsAt)
	wantItems, werr := itemsOf(want, itemsAt)
	if (gerr == nil) != (werr == nil) || len(gotItems) != len(wantItems) {
		t.Fatalf("%q: items %d, %v; encoding/json %d, %v", body, len(gotItems), gerr, len(wantItems), werr)
	}
	for i := range gotItems {
		for _, p := range itemPaths {
			at, _ := parsePath(p)
			if g, w := valueAt(at, gotItems[i]), valueAt(at, wantItems[i]); !reflect.DeepEqual(g, w) {
				t.Fatalf("%q: item %d at %s = %#v, encoding/json %#v", body, i, p, g, w)
			}
		}
	}
}

// valueAt is what a path reads: the value, as encoding/json gives it,
// and whether it is there.
func valueAt(p path, v any) [2]any {
	x, ok := p.get(v)
	return [2]any{unboxed(x), ok}
}

// unboxed returns v with the strings and numbers of an arena (*string
// and *float64) as encoding/json gives them, in maps and arrays too.
func unboxed(v any) any {
	switch x := v.(type) {
	case *string:
		return *x
	case *float64:
		return *x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = unboxed(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = unboxed(e)
		}
		return a
	}
	return v
}

func TestPrunedDecodeReadsAsEncodingJSON(t *testing.T) {
	paths := []string{"partner.handle", "stats.clicks", "stats.revenue", "short_url", "rows[1].v"}
	for _, body := range []string{
		`{"data":[{"partner":{"handle":"alice","name":"Alice"},"campaign":"spring","short_url":"aff.example/a","stats":{"clicks":120,"orders":"4","revenue":"99.90"}}],"meta":{"next":"c2"}}`,
		`{"data":[],"meta":{"next":null}}`,
		`{"data":null}`,
		`{"data":{"partner":{"handle":"solo"},"stats":{"clicks":1}}}`,
		`{"data":"not a list"}`,
		`{"data":[1,"x",null,true,[2],{"stats":{"clicks":{"deep":[1,2]}}}]}`,
		`{"data":[{"rows":[{"v":1},{"v":2},{"v":3}]},{"rows":[{"v":1}]}]}`,
		`{"data":[{"partner":{"handle":"\u00e9l\u00e8ve","handle":"dup"},"short_url":"caf\u00e9\n","stats":{"clicks":-0.5e+3}}]}`,
		`{"d\u0061ta":[{"partner":{"h\u0061ndle":"escaped keys"}}]}`,
		"{\"data\":[{\"short_url\":\"\xff\xfe invalid utf-8\"}]}",
		`{"data":[{"stats":{"clicks":1e400}}]}`,
		`{"ignored":1e400,"data":[]}`,
		` [ ] `,
		`{"data":[{"partner":{"handle":"a"}}],"meta":{"next":"c\"3"},"extra":{"a":[{"b":[true,false,null]}]}}`,
		// Invalid JSON, in a part read and in a part skipped.
		`{"data":[}`,
		`{"data":[],"x":[1,]}`,
		`{"data":[],"x":01}`,
		`{"data":[],"x":"\q"}`,
		`{"data":[],"x":"\u12"}`,
		"{\"data\":[],\"x\":\"a\x01\"}",
		`{"data":[],"x":tru}`,
		`{"data":[],"x":-}`,
		`{"data":[],"x":1.}`,
		`{"data":[],"x":1e}`,
		`{"data":[]} {}`,
		`{"data":[]`,
		`{"data" []}`,
		`{data:[]}`,
		``,
		`   `,
	} {
		samePruned(t, []byte(body), "data", "meta.next", paths...)
	}
	// The items are the document; an item is a number.
	samePruned(t, []byte(`[1,2.5,"3"]`), "", "", "")
	// Items and cursor in one object, the cursor in the first item.
	samePruned(t, []byte(`{"data":[{"next":"n1","v":1},{"next":"n2","v":2}]}`), "data", "data[0].next", "v")
	samePruned(t, []byte(`{"data":{"next":"n1","v":1}}`), "data", "data.next", "v")
}

func TestPrunedDecodeSkipsWhatNoPathReads(t *testing.T) {
	s, _ := testShape(t, "data", "meta.next", "stats.clicks")
	got, err := decodePruned([]byte(`{"data":[{"name":"x","stats":{"clicks":3,"orders":"4"},"tags":["a","b"]}],"meta":{"next":"c","total":9},"links":{"self":"/"}}`), s)
	if err != nil {
		t.Fatal(err)
	}
	want := object{
		{"data", []any{object{{"stats", object{{"clicks", 3.0}}}}}},
		{"meta", object{{"next", "c"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

func TestPrunedDecodeDepth(t *testing.T) {
	s, _ := testShape(t, "data", "")
	deep := func(n int) []byte {
		return []byte(`{"data":[],"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	if _, err := decodePruned(deep(9000), s); err != nil {
		t.Fatalf("9,000 levels: %v", err)
	}
	_, err := decodePruned(deep(20000), s)
	if err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Fatalf("20,000 levels: %v, want exceeded max depth", err)
	}
	var v any
	if json.Unmarshal(deep(20000), &v) == nil {
		t.Fatal("encoding/json decodes 20,000 levels: the limits differ")
	}
}

// FuzzPrunedDecode checks that a page decoded to the configured paths
// reads as encoding/json's decoding of it at every path, and that what
// encoding/json refuses as invalid JSON is refused. The input is the
// items path, the cursor path and an item's paths, one a line, and the
// body.
func FuzzPrunedDecode(f *testing.F) {
	f.Add("data\nmeta.next\npartner.handle\nstats.clicks", []byte(`{"data":[{"partner":{"handle":"a"},"stats":{"clicks":1}}],"meta":{"next":"x"}}`))
	f.Add("\n\n", []byte(`[1,{"a":2}]`))
	f.Add("a[1]\na[0].c\nb", []byte(`{"a":[{"c":"n"},{"b":[1,2]}]}`))
	f.Add("data\nmeta.next\nv", []byte(`{"data":[{"v":"\u00e9\ud800"}],"meta":{"next":1e999}}`))
	f.Fuzz(func(t *testing.T, paths string, body []byte) {
		lines := strings.Split(paths, "\n")
		for len(lines) < 2 {
			lines = append(lines, "")
		}
		if len(lines) > 8 {
			return
		}
		samePruned(t, body, lines[0], lines[1], lines[2:]...)
	})
}

// partnersPage is a listing's page of n partners, named from first on.
func partnersPage(first, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"partner":{"handle":"p%d","bio":"skipped"},"short_url":"aff.example/p%d","stats":{"clicks":%d,"orders":"%d","views":[1,2,3]}}`, first+i, first+i, 10*(first+i), first+i)
	}
	b.WriteString(`],"meta":{"next":"after-`)
	fmt.Fprint(&b, first+n)
	b.WriteString(`"}}`)
	return []byte(b.String())
}

// TestPageArenaReuse checks that a page decoded into an arena reuses the
// last page's room and reads as it does without an arena, and that what
// was read from the last page, numbers and copied strings, is not
// overwritten.
func TestPageArenaReuse(t *testing.T) {
	s, _ := testShape(t, "data", "meta.next", "partner.handle", "short_url", "stats.clicks")
	handleAt, _ := parsePath("partner.handle")
	clicksAt, _ := parsePath("stats.clicks")
	itemsAt, _ := parsePath("data")
	read := func(v any) (handles []string, clicks []float64) {
		items, err := itemsOf(v, itemsAt)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			h, _ := handleAt.scalar(it)
			// A copy: h views the arena until its next page.
			h = strings.Clone(h)
			c, err := clicksAt.number(it)
			if err != nil {
				t.Fatal(err)
			}
			handles, clicks = append(handles, h), append(clicks, c)
		}
		return handles, clicks
	}

	var arena pageArena
	pg := prunedPage{shape: s, arena: &arena}
	if err := pg.DecodeBody(partnersPage(0, 100)); err != nil {
		t.Fatal(err)
	}
	firstHandles, firstClicks := read(pg.v)
	if err := pg.DecodeBody(partnersPage(100, 100)); err != nil {
		t.Fatal(err)
	}
	handles, clicks := read(pg.v)
	for i := range 100 {
		if firstHandles[i] != fmt.Sprintf("p%d", i) || firstClicks[i] != float64(10*i) {
			t.Fatalf("page 1, item %d after page 2 was decoded: %s, %g; want p%d, %d", i, firstHandles[i], firstClicks[i], i, 10*i)
		}
		if handles[i] != fmt.Sprintf("p%d", 100+i) || clicks[i] != float64(10*(100+i)) {
			t.Fatalf("page 2, item %d: %s, %g; want p%d, %d", i, handles[i], clicks[i], 100+i, 10*(100+i))
		}
	}
	plain, err := decodePruned(partnersPage(100, 100), s)
	if err != nil {
		t.Fatal(err)
	}
	if h, c := read(plain); !reflect.DeepEqual(h, handles) || !reflect.DeepEqual(c, clicks) {
		t.Fatal("a page decoded into an arena reads otherwise than decoded without one")
	}

	// Decoded again into the same arena, a page allocates only the
	// interface of its items' array; without the arena, each object,
	// array, string and number too.
	body := partnersPage(0, 100)
	withArena := testing.AllocsPerRun(20, func() {
		if err := pg.DecodeBody(body); err != nil {
			t.Fatal(err)
		}
	})
	without := testing.AllocsPerRun(20, func() {
		if _, err := decodePruned(body, s); err != nil {
			t.Fatal(err)
		}
	})
	if withArena > 5 || withArena >= without {
		t.Errorf("allocations decoding a page of 100 items: %v into a reused arena, %v without; want at most 5, and fewer", withArena, without)
	}
	t.Logf("allocations decoding a page of 100 items: %v into a reused arena, %v without", withArena, without)
}
