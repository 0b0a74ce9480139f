package lti_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/safehttp"
	"github.com/ltipub/ltipub/lti"
)

// nonceSet is a minimal in-memory NonceStore; the tool keeps nonces in its
// database until they expire.
type nonceSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (n *nonceSet) UseNonce(_ context.Context, iss, nonce string, _ time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[iss+" "+nonce] {
		return lti.ErrNonceReused
	}
	n.seen[iss+" "+nonce] = true
	return nil
}

// Example shows a whole launch: login initiation, the authentication
// request, and validation of the id_token the platform posts back. The
// platform side (its JWKS and signed id_token) is simulated.
func Example() {
	ctx := context.Background()

	// The platform's signing key and JWKS endpoint (simulated).
	platformKey, _ := lti.GenerateSigningKey()
	jwks, _ := lti.PublicJWKS(platformKey.Public())
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	defer platform.Close()

	// The registration the tool stored for this platform.
	const issuer, clientID, deployment = "https://moodle.example.edu", "tool-client-1", "3"
	reg := struct{ AuthEndpoint, JWKSURL string }{"https://moodle.example.edu/mod/lti/auth.php", platform.URL}

	// 1. The platform starts the login.
	form := url.Values{"iss": {issuer}, "login_hint": {"2"}, "client_id": {clientID},
		"target_link_uri": {"https://tool.example.com/lti/launch"}, "lti_message_hint": {"17"}}
	req := httptest.NewRequest(http.MethodPost, "/lti/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login, err := lti.ParseLoginInitiation(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	state, nonce := lti.NewState(), lti.NewNonce() // stored with the registration, state also in a cookie
	redirect, _ := lti.AuthRequest{
		ClientID: clientID, RedirectURI: "https://tool.example.com/lti/launch",
		LoginHint: login.LoginHint, LTIMessageHint: login.LTIMessageHint, State: state, Nonce: nonce,
	}.URL(reg.AuthEndpoint)
	u, _ := url.Parse(redirect)
	fmt.Println("redirect to", u.Host+u.Path, "response_mode="+u.Query().Get("response_mode"))

	// 2. The platform posts back an id_token (simulated: signed here).
	now := time.Now()
	idToken, _ := lti.Sign(platformKey, map[string]any{
		"iss": issuer, "aud": clientID, "sub": "2", "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		lti.ClaimMessageType:   "LtiResourceLinkRequest",
		lti.ClaimVersion:       "1.3.0",
		lti.ClaimDeploymentID:  deployment,
		lti.ClaimTargetLinkURI: "https://tool.example.com/lti/launch",
		lti.ClaimResourceLink:  map[string]any{"id": "42"},
		lti.ClaimRoles:         []string{"http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"},
	})

	// 3. The tool validates it against the registration and the state record.
	client := safehttp.New(safehttp.Options{AllowPrivate: true}) // private only because the test platform is local
	v := &lti.Validator{Keys: lti.NewRemoteKeySets(client, lti.RemoteKeySetsOptions{}), Nonces: &nonceSet{seen: map[string]bool{}}}
	want := lti.Expect{
		Issuer: issuer, ClientID: clientID, JWKSURL: reg.JWKSURL, Nonce: nonce,
		DeploymentKnown:      func(id string) bool { return id == deployment },
		TargetLinkURIAllowed: func(u string) bool { return strings.HasPrefix(u, "https://tool.example.com/") },
	}
	msg, err := v.Validate(ctx, idToken, want)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.MessageType, "for resource link", msg.ResourceLink.ID, "teacher:", msg.Roles.IsTeacherLike())

	// A replay of the same token is refused.
	_, err = v.Validate(ctx, idToken, want)
	fmt.Println(err)

	// Output:
	// redirect to moodle.example.edu/mod/lti/auth.php response_mode=form_post
	// LtiResourceLinkRequest for resource link 42 teacher: true
	// lti: nonce_reused: the id_token was already used (replayed nonce)
}
