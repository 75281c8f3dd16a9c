package jsonapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Auth types.
const (
	authBearer = "bearer"
	authHeader = "header"
	authBasic  = "basic"
	authQuery  = "query"
	authNone   = "none"
)

// Pagination types.
const (
	pageNone   = "none"
	pageCursor = "cursor"
	pagePage   = "page"
	pageLink   = "link"
)

// authorize returns the Authorize hook of an auth option. The token never
// leaves the hook: the shared client redacts it from errors, and strips
// query strings (where the query type puts it) from every URL it reports.
func authorize(a AuthOptions) func(*http.Request, string) {
	switch a.Type {
	case authHeader:
		return exporter.HeaderAuth(a.Name)
	case authBasic:
		return func(req *http.Request, token string) {
			user, pass, _ := strings.Cut(token, ":")
			req.SetBasicAuth(user, pass)
		}
	case authQuery:
		return func(req *http.Request, token string) {
			q := req.URL.Query()
			q.Set(a.Name, token)
			req.URL.RawQuery = q.Encode()
		}
	case authNone:
		return nil
	}
	return exporter.BearerAuth
}

// errorMessage pulls the provider's error text out of the usual shapes of
// error bodies: {"message":...}, {"error":"..."}, {"error":{"message":...}},
// {"error_description":...}, {"detail":...}, {"title":...} and
// {"errors":[{"message":...}]}.
func errorMessage(_ int, body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, p := range []string{"error.message", "error_description", "message", "error", "detail", "title", "errors[0].message", "errors[0].detail", "errors[0]"} {
		pp, _ := parsePath(p)
		if s, ok := pp.scalar(v); ok && s != "" {
			if c, ok := (path{{key: "error"}, {key: "code"}}).scalar(v); ok && c != "" && c != s {
				return c + ": " + s
			}
			return s
		}
	}
	return ""
}

// CopiesBody makes a page an exporter.BodyCopier, so that the client
// reads each page into the buffer of the one before: the decoded page
// keeps nothing of the body, its strings being copies, in the arena or
// of their own (decoder.text), or the shape's keys, and its numbers
// parsed.
func (*prunedPage) CopiesBody() {}

var _ exporter.BodyCopier = (*prunedPage)(nil)

// fetcher pages through one URL.
type fetcher struct {
	api      *exporter.API
	p        PaginationOptions
	query    url.Values
	itemsAt  path
	cursorAt path
	// shape is what a page is decoded to (see shape).
	shape    *shape
	maxPages int
	// pageRead, if set, is called with the arena of the pages each time
	// fetch is done with a page: before it requests the next, and when
	// it returns. Tests overwrite the arena there, as the next page
	// would, to show that nothing kept views it.
	pageRead func(*pageArena)
}

// fetch requests every page of the resource at rel (a path joined to the
// base URL) and hands each page's items to page as the page arrives, so
// that a page's decoded JSON is dropped before the next is requested. It
// returns the number of calls made. On an error, the items already handed
// over are no result: the caller discards them.
func (f *fetcher) fetch(ctx context.Context, rel string, page func(items []any)) (int, error) {
	next, q := f.firstURL(rel)
	number := f.p.Start
	var (
		items int
		seen  = map[string]bool{}
		// Each page is decoded into the last one's arena: page
		// copies what it keeps of a page, which is valid until the
		// next is decoded.
		arena pageArena
	)
	if f.pageRead != nil {
		defer f.pageRead(&arena)
	}
	for calls := 1; ; calls++ {
		if calls > 1 && f.pageRead != nil {
			f.pageRead(&arena)
		}
		if calls > f.maxPages {
			return calls - 1, fmt.Errorf("more than max_pages (%d) pages: %w", f.maxPages, exporter.ErrBadResponse)
		}
		pg := prunedPage{shape: f.shape, arena: &arena}
		resp, err := f.api.Client.GetJSON(ctx, next, f.api.Header, &pg)
		if err != nil {
			return calls, err
		}
		body := pg.v
		got, err := itemsOf(body, f.itemsAt)
		if err != nil {
			return calls, fmt.Errorf("page %d: %w", calls, err)
		}
		page(got)
		items += len(got)

		var following string
		switch f.p.Type {
		case pageCursor:
			c, ok := f.cursorAt.scalar(body)
			if !ok || c == "" || len(got) == 0 {
				return calls, nil
			}
			if seen[c] {
				return calls, fmt.Errorf("cursor %q repeated after %d items: %w", c, items, exporter.ErrBadResponse)
			}
			// Kept after the page: a copy, not the arena's.
			c = strings.Clone(c)
			seen[c] = true
			q.Set(f.p.Param, c)
			following = f.api.Base + rel + "?" + q.Encode()
		case pagePage:
			if len(got) == 0 || (f.p.Size > 0 && len(got) < f.p.Size) {
				return calls, nil
			}
			number++
			q.Set(f.p.Param, strconv.Itoa(number))
			following = f.api.Base + rel + "?" + q.Encode()
		case pageLink:
			u, ok, err := nextLink(resp.Header, next, f.api.Base)
			if err != nil {
				return calls, err
			}
			if !ok {
				return calls, nil
			}
			if seen[u] {
				return calls, fmt.Errorf("link rel=next repeated after %d items: %w", items, exporter.ErrBadResponse)
			}
			seen[u] = true
			following = u
		default:
			return calls, nil
		}
		next = following
	}
}

// firstURL returns the URL of the first page of the resource at rel, and
// its query.
func (f *fetcher) firstURL(rel string) (string, url.Values) {
	u := f.api.Base + rel
	q := url.Values{}
	for k, v := range f.query {
		q[k] = append([]string(nil), v...)
	}
	if f.p.Type == pagePage {
		q.Set(f.p.Param, strconv.Itoa(f.p.Start))
	}
	if f.p.SizeParam != "" && f.p.Size > 0 {
		q.Set(f.p.SizeParam, strconv.Itoa(f.p.Size))
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, q
}

// firstPage returns the decoded first page of the resource at rel.
func (f *fetcher) firstPage(ctx context.Context, rel string) (*exporter.Response, any, error) {
	u, _ := f.firstURL(rel)
	var body any
	resp, err := f.api.Client.GetJSON(ctx, u, f.api.Header, &body)
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// itemsOf returns the array at p; an object there is one item.
func itemsOf(body any, p path) ([]any, error) {
	v, ok := p.get(body)
	if !ok {
		return nil, fmt.Errorf("no items at the items path: %w", exporter.ErrBadResponse)
	}
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any, object, *object:
		return []any{x}, nil
	case nil:
		return nil, nil
	}
	// Named as encoding/json decodes it, not as the arena boxes it.
	if s, ok := stringOf(v); ok {
		v = s
	} else if f, ok := numberOf(v); ok {
		v = f
	}
	return nil, fmt.Errorf("items path holds a %T, not an array: %w", v, exporter.ErrBadResponse)
}

// nextLink finds the rel="next" target of RFC 8288 Link headers, resolved
// against the current URL. It refuses a target off the base URL's scheme
// and host: the credential must not be sent anywhere else.
func nextLink(h http.Header, current, base string) (string, bool, error) {
	for _, v := range h.Values("Link") {
		for _, part := range splitLinks(v) {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			if !hasRel(params, "next") {
				continue
			}
			cur, err := url.Parse(current)
			if err != nil {
				return "", false, err
			}
			ref, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				return "", false, fmt.Errorf("link rel=next: %w", exporter.ErrBadResponse)
			}
			u := cur.ResolveReference(ref)
			b, _ := url.Parse(base)
			if b == nil || u.Scheme != b.Scheme || u.Host != b.Host {
				return "", false, fmt.Errorf("link rel=next leads off %s://%s: %w", b.Scheme, b.Host, exporter.ErrBadResponse)
			}
			return u.String(), true, nil
		}
	}
	return "", false, nil
}

// splitLinks splits a Link header value at the commas between links, not
// those inside <...> or quotes.
func splitLinks(v string) []string {
	var (
		out          []string
		start        int
		inURI, inStr bool
	)
	for i, r := range v {
		switch {
		case r == '<' && !inStr:
			inURI = true
		case r == '>' && !inStr:
			inURI = false
		case r == '"' && !inURI:
			inStr = !inStr
		case r == ',' && !inURI && !inStr:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// hasRel reports whether link params carry rel=want (rel may list several
// space-separated types, quoted or not).
func hasRel(params, want string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(r, want) {
				return true
			}
		}
	}
	return false
}
