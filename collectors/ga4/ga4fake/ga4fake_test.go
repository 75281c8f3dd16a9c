package ga4fake_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func assertion(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + enc.EncodeToString(sig)
}

func post(t *testing.T, u, contentType, body, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTokenEndpoint: the fake refuses an assertion signed by another key,
// for another audience or scope, or expired; and runReport refuses a
// missing bearer with Google's 401 body.
func TestTokenEndpoint(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	fake := ga4fake.New("1", func() time.Time { return now })
	base := exportertest.Serve(t, fake)
	other, err := rsa.GenerateKey(rand.Reader, 1024) // a stranger's key, test only
	if err != nil {
		t.Fatal(err)
	}
	claims := func(aud, scope string, iat time.Time) map[string]any {
		return map[string]any{"iss": ga4fake.ClientEmail, "aud": aud, "scope": scope, "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()}
	}
	for _, tc := range []struct {
		name, assertion, want string
	}{
		{"other key", assertion(t, other, claims(base+"/token", ga4fake.Scope, now)), "Invalid JWT Signature"},
		{"not a JWT", "abc", "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {tc.assertion}}
			code, body := post(t, base+"/token", "application/x-www-form-urlencoded", form.Encode(), "")
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s, want 400 with %q", code, body, tc.want)
			}
		})
	}
	code, body := post(t, base+"/v1beta/properties/1:runReport", "application/json", `{}`, "")
	want := `{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","status":"UNAUTHENTICATED"}}`
	if code != 401 || strings.TrimSpace(body) != want {
		t.Errorf("runReport without token: %d %s", code, body)
	}
	if fmt.Sprint(fake.TokensIssued()) != "0" {
		t.Errorf("tokens issued: %d", fake.TokensIssued())
	}
}

// TestUserGrant checks the authorized user's refresh-token grant with the
// scope it was given, a totals report, a token without the Analytics
// scope, a property that denies access, and revoked credentials.
func TestUserGrant(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	fake := ga4fake.New("1", func() time.Time { return now })
	base := exportertest.Serve(t, fake)
	fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 30})
	fake.AddTraffic("utm_content", "bob", "tiktok", fakeapi.Growth{Base: 12})
	token := func() (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ga4fake.UserRefreshToken},
			"client_id": {ga4fake.UserClientID}, "client_secret": {ga4fake.UserClientSecret}}
		code, body := post(t, base+"/token", "application/x-www-form-urlencoded", form.Encode(), "")
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		return code, m
	}
	const totals = `{"metrics":[{"name":"activeUsers"}],"dateRanges":[{"startDate":"today","endDate":"today"}],"limit":"1","returnPropertyQuota":true}`
	report := func(access string) (int, string) {
		return post(t, base+"/v1beta/properties/1:runReport", "application/json", totals, access)
	}

	_, m := token()
	if m["scope"] != ga4fake.Scope {
		t.Errorf("token answer %v", m)
	}
	code, body := report(m["access_token"].(string))
	if code != 200 || !strings.Contains(body, `"rows":[{"metricValues":[{"value":"42"}]}]`) || strings.Contains(body, "dimensionHeaders") ||
		!strings.Contains(body, `"tokensPerDay":{"consumed":10,"remaining":199990}`) {
		t.Errorf("totals: %d %s", code, body)
	}

	fake.SetUserScope(ga4fake.CloudPlatformScope)
	_, m = token()
	if code, body := report(m["access_token"].(string)); code != 403 || !strings.Contains(body, ga4fake.ScopeInsufficientMessage) ||
		!strings.Contains(body, "ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
		t.Errorf("without the Analytics scope: %d %s", code, body)
	}
	fake.SetUserScope(ga4fake.Scope)
	fake.DenyAccess()
	_, m = token()
	if code, body := report(m["access_token"].(string)); code != 403 || !strings.Contains(body, ga4fake.PermissionDeniedMessage) {
		t.Errorf("access denied: %d %s", code, body)
	}
	fake.RevokeCredentials()
	if code, body := report(m["access_token"].(string)); code != 401 {
		t.Errorf("revoked access token: %d %s", code, body)
	}
	if code, m := token(); code != 400 || m["error"] != "invalid_grant" || m["error_description"] != ga4fake.RevokedMessage {
		t.Errorf("revoked refresh token: %d %v", code, m)
	}
}
