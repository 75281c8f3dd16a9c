package woocommercefake

import (
	"net/http"
	"testing"
)

// TestKeyPermissions: a GET needs a read key whose user may list what is
// asked for; WooCommerce answers 401 for the key, 403 for the user.
func TestKeyPermissions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(*Server)
		path   string
		status int
		code   string
		msg    string
	}{
		{"read key", func(*Server) {}, "/orders", 200, "", ""},
		{"read_write key", func(s *Server) { s.SetKeyPermissions("read_write") }, "/orders", 200, "", ""},
		{"write key", func(s *Server) { s.SetKeyPermissions("write") }, "/orders", 401,
			"woocommerce_rest_authentication_error", "The API key provided does not have read permissions."},
		{"user without orders", func(s *Server) { s.Deny("orders") }, "/orders", 403,
			"woocommerce_rest_cannot_view", "Sorry, you cannot list resources."},
		{"user without orders, coupons", func(s *Server) { s.Deny("orders") }, "/coupons?code=bob15", 200, "", ""},
		{"user without coupons", func(s *Server) { s.Deny("coupons") }, "/coupons?code=bob15", 403,
			"woocommerce_rest_cannot_view", "Sorry, you cannot list resources."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, srv := newServer(t)
			tc.setup(fake)
			var e wpError
			var v any = &e
			if tc.status == http.StatusOK {
				v = nil
			}
			resp := get(t, srv.URL+APIPrefix+tc.path, true, v)
			if resp.StatusCode != tc.status || e.Code != tc.code || e.Message != tc.msg || (tc.code != "" && e.Data.Status != tc.status) {
				t.Errorf("HTTP %d %+v, want %d %s %q", resp.StatusCode, e, tc.status, tc.code, tc.msg)
			}
		})
	}
}
