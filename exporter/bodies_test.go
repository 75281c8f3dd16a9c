package exporter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// copier is a BodyCopier that records where each body it decodes lies,
// and a copy of it.
type copier struct {
	arrays []*byte
	texts  []string
	fail   bool
}

func (c *copier) DecodeBody(body []byte) error {
	c.arrays = append(c.arrays, unsafe.SliceData(body))
	c.texts = append(c.texts, string(body))
	if c.fail {
		return errors.New("no page")
	}
	return nil
}

func (*copier) CopiesBody() {}

// pageBody is the body the bodies server answers for page i: each page's
// differs from the others', in bytes and in length.
func pageBody(i int) string {
	return `{"page":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat(string(rune('a'+i%26)), 100+i%7*50) + `"}`
}

// bodiesServer answers /?i=N with pageBody(N), and /?status=N with that
// status and the body "failed N".
func bodiesServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("status"); s != "" {
			code, _ := strconv.Atoi(s)
			http.Error(w, "failed "+s, code)
			return
		}
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		_, _ = w.Write([]byte(pageBody(i)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClientReusesBodyCopierBuffers reads pages into a BodyCopier, which
// are read into the buffers of the pages before, and pages into plain
// values, whose bodies stay their callers' own.
func TestClientReusesBodyCopierBuffers(t *testing.T) {
	srv := bodiesServer(t)
	c, _ := testClient(t, nil)
	ctx := context.Background()
	get := func(i int, v any) *Response {
		t.Helper()
		resp, err := c.GetJSON(ctx, srv.URL+"/?i="+strconv.Itoa(i), nil, v)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		return resp
	}

	var m map[string]any
	first := get(1, &m)
	var st struct{ Page int }
	second := get(2, &st)

	var cp copier
	const pages = 50
	reused := 0
	for i := range pages {
		resp := get(10+i, &cp)
		if resp.Body != nil {
			t.Fatalf("page %d: a BodyCopier's Response keeps a body of %d bytes", 10+i, len(resp.Body))
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") == "" {
			t.Fatalf("page %d: status %d, header %v", 10+i, resp.StatusCode, resp.Header)
		}
		if got, want := cp.texts[i], pageBody(10+i); got != want {
			t.Fatalf("page %d: decoded %q, want %q", 10+i, got, want)
		}
		if i > 0 && cp.arrays[i] == cp.arrays[i-1] {
			reused++
		}
	}
	// A sync.Pool keeps no promise: it may drop what it is given (the
	// race detector makes it drop a quarter on purpose) and a goroutine
	// moved to another P may not find it. Most pages still reuse.
	if reused == 0 {
		t.Fatalf("none of %d pages was read into the buffer of the page before", pages)
	}

	var st3 struct{ Page int }
	third := get(3, &st3)
	var pcp copier
	if resp, err := c.PostJSON(ctx, srv.URL+"/?i=4", nil, map[string]int{"i": 4}, &pcp); err != nil || resp.Body != nil {
		t.Fatalf("PostJSON into a BodyCopier: %v, body %v", err, resp)
	}
	get(5, &cp)

	for i, resp := range map[int]*Response{1: first, 2: second, 3: third} {
		if string(resp.Body) != pageBody(i) {
			t.Errorf("page %d's body, read into a plain value, is %q after later pages, want %q", i, resp.Body, pageBody(i))
		}
		for _, a := range cp.arrays {
			if unsafe.SliceData(resp.Body) == a {
				t.Errorf("page %d's body, read into a plain value, lies in a pooled buffer", i)
			}
		}
	}
	if m["page"] != float64(1) || st.Page != 2 || st3.Page != 3 {
		t.Errorf("plain values decoded %v, %d, %d", m["page"], st.Page, st3.Page)
	}
}

// TestClientBodyCopierErrors: an error answer, or a body that fails to
// decode, is not recycled: the error, the hooks and the Response keep it
// as they would for any value.
func TestClientBodyCopierErrors(t *testing.T) {
	srv := bodiesServer(t)
	c, _ := testClient(t, nil)
	var kept [][]byte
	c.hooks.Classify = func(status int, body []byte) (error, any) {
		kept = append(kept, body)
		return nil, nil
	}
	ctx := context.Background()
	var cp copier
	// Buffers in the pool, for the answers below to be read into if
	// they were recycled.
	for i := range 5 {
		if _, err := c.GetJSON(ctx, srv.URL+"/?i="+strconv.Itoa(i), nil, &cp); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		status int
		kind   error
	}{{http.StatusNotFound, ErrNotFound}, {http.StatusInternalServerError, ErrServer}} {
		s := strconv.Itoa(tc.status)
		resp, err := c.GetJSON(ctx, srv.URL+"/?status="+s, nil, &cp)
		var ae *APIError
		if resp != nil || !errors.Is(err, tc.kind) || !errors.As(err, &ae) || ae.Message != "failed "+s {
			t.Fatalf("HTTP %s: %v, %v; want %v with the body's message", s, resp, err, tc.kind)
		}
	}

	// The longest of pages, then shorter ones: were its buffer recycled,
	// they would be read into it.
	var bad copier
	bad.fail = true
	resp, err := c.GetJSON(ctx, srv.URL+"/?i=6", nil, &bad)
	if !errors.Is(err, ErrBadResponse) || resp == nil {
		t.Fatalf("a body DecodeBody refuses: %v, %v; want ErrBadResponse and the Response", resp, err)
	}
	for i := range 5 {
		if _, err := c.GetJSON(ctx, srv.URL+"/?i="+strconv.Itoa(7*i), nil, &cp); err != nil {
			t.Fatal(err)
		}
	}
	if string(resp.Body) != pageBody(6) {
		t.Errorf("the body that failed to decode is %q after later pages, want %q", resp.Body, pageBody(6))
	}
	if len(kept) < 2 {
		t.Fatalf("Classify saw %d bodies", len(kept))
	}
	for _, b := range kept {
		if !strings.HasPrefix(string(b), "failed ") {
			t.Errorf("a body Classify kept is %q after later pages", b)
		}
	}
}
