package ltitest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// The tests play the tool with lestrrat-go/jwx, a JOSE implementation
// independent of the platform's own, so both sides check each other.

var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var ks []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks = append(ks, k)
	}
	return ks
})

// fakeTool is a minimal, correct LTI tool.
type fakeTool struct {
	t        testing.TB
	p        *Platform
	srv      *httptest.Server
	clientID string
	priv     jwk.Key
	pub      jwk.Set
	// postAuth makes the login answer an auto-posted form instead of a 302.
	postAuth bool

	mu     sync.Mutex
	nonces map[string]string // state -> nonce
	claims []map[string]any
}

func newPlatformAndTool(t testing.TB) (*Platform, *fakeTool) {
	t.Helper()
	p := NewServer(t, Config{SigningKey: testKeys()[0]})
	ft := &fakeTool{t: t, p: p, clientID: "client-1", nonces: map[string]string{}}
	priv, err := jwk.Import(testKeys()[1])
	if err != nil {
		t.Fatal(err)
	}
	_ = priv.Set(jwk.KeyIDKey, "tool-key-1")
	_ = priv.Set(jwk.AlgorithmKey, jwa.RS256())
	ft.priv = priv
	pubKey, _ := priv.PublicKey()
	ft.pub = jwk.NewSet()
	_ = ft.pub.AddKey(pubKey)

	mux := http.NewServeMux()
	mux.HandleFunc("/login", ft.login)
	mux.HandleFunc("POST /launch", ft.launch)
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ft.pub)
	})
	ft.srv = httptest.NewServer(mux)
	t.Cleanup(ft.srv.Close)
	if err := p.RegisterTool(ToolConfig{
		ClientID: ft.clientID, DeploymentIDs: []string{"dep-1", "dep-2"},
		LoginURL: ft.srv.URL + "/login", RedirectURIs: []string{ft.srv.URL + "/launch"},
		JWKSURL: ft.srv.URL + "/jwks", TargetLinkURI: ft.srv.URL + "/launch",
	}); err != nil {
		t.Fatal(err)
	}
	return p, ft
}

func (ft *fakeTool) login(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.Form.Get("iss") != ft.p.Issuer() || r.Form.Get("login_hint") == "" || r.Form.Get("target_link_uri") == "" {
		http.Error(w, "bad login", http.StatusBadRequest)
		return
	}
	state, nonce := randomID(12), randomID(12)
	ft.mu.Lock()
	ft.nonces[state] = nonce
	ft.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "state", Value: state, Path: "/", HttpOnly: true})
	v := url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"}, "prompt": {"none"},
		"client_id": {ft.clientID}, "redirect_uri": {ft.srv.URL + "/launch"}, "login_hint": {r.Form.Get("login_hint")},
		"state": {state}, "nonce": {nonce},
	}
	if mh := r.Form.Get("lti_message_hint"); mh != "" {
		v.Set("lti_message_hint", mh)
	}
	if !ft.postAuth {
		http.Redirect(w, r, ft.p.AuthURL()+"?"+v.Encode(), http.StatusFound)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<form method="post" action="%s">`, html.EscapeString(ft.p.AuthURL()))
	for k := range v {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, k, html.EscapeString(v.Get(k)))
	}
	b.WriteString(`</form>`)
	_, _ = io.WriteString(w, b.String())
}

func (ft *fakeTool) launch(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if e := r.PostForm.Get("error"); e != "" {
		http.Error(w, "auth error: "+e+": "+r.PostForm.Get("error_description"), http.StatusUnauthorized)
		return
	}
	c, err := r.Cookie("state")
	if err != nil || c.Value != r.PostForm.Get("state") {
		http.Error(w, "state mismatch", http.StatusUnauthorized)
		return
	}
	claims, err := ft.verify(r.Context(), r.PostForm.Get("id_token"))
	if err != nil {
		http.Error(w, "bad id_token: "+err.Error(), http.StatusUnauthorized)
		return
	}
	ft.mu.Lock()
	want := ft.nonces[c.Value]
	delete(ft.nonces, c.Value)
	ft.claims = append(ft.claims, claims)
	ft.mu.Unlock()
	if claims["nonce"] != want {
		http.Error(w, "nonce mismatch", http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "launched %v", claims[ClaimMessageType])
}

// verify checks an id_token as a careful tool would, with jwx.
func (ft *fakeTool) verify(ctx context.Context, tok string) (map[string]any, error) {
	resp, err := http.Get(ft.p.JWKSURL())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, err
	}
	t, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithIssuer(ft.p.Issuer()), jwt.WithAudience(ft.clientID),
		jwt.WithAcceptableSkew(5*time.Second), jwt.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	parts := strings.Split(tok, ".")
	pb, _ := b64.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &claims); err != nil {
		return nil, err
	}
	_ = t
	return claims, nil
}

func (ft *fakeTool) lastClaims() map[string]any {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if len(ft.claims) == 0 {
		return nil
	}
	return ft.claims[len(ft.claims)-1]
}

// sign signs claims with the tool key.
func (ft *fakeTool) sign(claims map[string]any) string {
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			ft.t.Fatalf("set %s: %v", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), ft.priv))
	if err != nil {
		ft.t.Fatal(err)
	}
	return string(b)
}

func (ft *fakeTool) assertionClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": ft.clientID, "sub": ft.clientID, "aud": ft.p.TokenURL(),
		"iat": now, "exp": now.Add(5 * time.Minute), "jti": randomID(12),
	}
}

// tokenRequest posts a client_credentials request.
func (ft *fakeTool) tokenRequest(form url.Values) (int, map[string]any) {
	ft.t.Helper()
	resp, err := http.PostForm(ft.p.TokenURL(), form)
	if err != nil {
		ft.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		ft.t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, m
}

func (ft *fakeTool) tokenForm(assertion string, scopes ...string) url.Values {
	return url.Values{
		"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionType},
		"client_assertion": {assertion}, "scope": {strings.Join(scopes, " ")},
	}
}

// accessToken obtains a token through the token endpoint.
func (ft *fakeTool) accessToken(scopes ...string) string {
	ft.t.Helper()
	st, m := ft.tokenRequest(ft.tokenForm(ft.sign(ft.assertionClaims()), scopes...))
	if st != http.StatusOK {
		ft.t.Fatalf("token: %d %v", st, m)
	}
	return m["access_token"].(string)
}

func newJarClient(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// do sends a service request.
func do(t testing.TB, method, u, token, accept, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}
