package ltitest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func TestTokenEndpoint(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	other, _ := jwk.Import(testKeys()[2])
	_ = other.Set(jwk.KeyIDKey, "tool-key-1") // same kid, wrong key
	signOther := func(c map[string]any) string {
		tok := jwt.New()
		for k, v := range c {
			_ = tok.Set(k, v)
		}
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), other))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	replayed := ft.sign(ft.assertionClaims())
	if st, m := ft.tokenRequest(ft.tokenForm(replayed, ScopeScore)); st != 200 {
		t.Fatalf("first use: %d %v", st, m)
	}
	tests := []struct {
		name      string
		form      func() map[string][]string
		wantError string
	}{
		{"good, two scopes, aud array", func() map[string][]string {
			c := ft.assertionClaims()
			c["aud"] = []string{"https://elsewhere.invalid", p.TokenURL()}
			return ft.tokenForm(ft.sign(c), ScopeScore, ScopeNRPS)
		}, ""},
		{"replayed jti", func() map[string][]string { return ft.tokenForm(replayed, ScopeScore) }, "invalid_client"},
		{"wrong grant", func() map[string][]string {
			f := ft.tokenForm(ft.sign(ft.assertionClaims()), ScopeScore)
			f["grant_type"] = []string{"password"}
			return f
		}, "unsupported_grant_type"},
		{"wrong assertion type", func() map[string][]string {
			f := ft.tokenForm(ft.sign(ft.assertionClaims()), ScopeScore)
			f["client_assertion_type"] = []string{"jwt"}
			return f
		}, "invalid_client"},
		{"no assertion", func() map[string][]string { return ft.tokenForm("", ScopeScore) }, "invalid_client"},
		{"foreign key", func() map[string][]string { return ft.tokenForm(signOther(ft.assertionClaims()), ScopeScore) }, "invalid_client"},
		{"wrong aud", func() map[string][]string {
			c := ft.assertionClaims()
			c["aud"] = p.Issuer()
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"iss != sub", func() map[string][]string {
			c := ft.assertionClaims()
			c["iss"] = "someone"
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"unknown client", func() map[string][]string {
			c := ft.assertionClaims()
			c["iss"], c["sub"] = "nobody", "nobody"
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"expired", func() map[string][]string {
			c := ft.assertionClaims()
			c["iat"], c["exp"] = time.Now().Add(-time.Hour), time.Now().Add(-10*time.Minute)
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"exp too far", func() map[string][]string {
			c := ft.assertionClaims()
			c["exp"] = time.Now().Add(2 * time.Hour)
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"no jti", func() map[string][]string {
			c := ft.assertionClaims()
			delete(c, "jti")
			return ft.tokenForm(ft.sign(c), ScopeScore)
		}, "invalid_client"},
		{"alg none", func() map[string][]string {
			return ft.tokenForm(signNone("tool-key-1", map[string]any{"iss": ft.clientID, "sub": ft.clientID, "aud": p.TokenURL(),
				"exp": time.Now().Add(time.Minute).Unix(), "jti": "x"}), ScopeScore)
		}, "invalid_client"},
		{"unknown scope", func() map[string][]string {
			return ft.tokenForm(ft.sign(ft.assertionClaims()), ScopeScore, "https://example.test/scope/admin")
		}, "invalid_scope"},
		{"no scope", func() map[string][]string { return ft.tokenForm(ft.sign(ft.assertionClaims())) }, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, m := ft.tokenRequest(tt.form())
			if tt.wantError == "" {
				if st != 200 || m["token_type"] != "Bearer" || m["access_token"] == "" || m["expires_in"] != float64(3600) ||
					m["scope"] != ScopeScore+" "+ScopeNRPS {
					t.Fatalf("got %d %v", st, m)
				}
				return
			}
			if m["error"] != tt.wantError || st < 400 {
				t.Fatalf("got %d %v, want %s", st, m, tt.wantError)
			}
		})
	}
	for _, r := range p.TokenRequests() {
		t.Logf("%s: %s", r.Error, r.ErrorDescription)
	}
	if n := p.ToolJWKSFetches(ft.srv.URL + "/jwks"); n < 1 || n > 3 {
		t.Errorf("tool JWKS fetched %d times; want cached with refetch on failure", n)
	}
}

func TestTokenFaultsAndExpiry(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	tok := ft.accessToken(ScopeLineItemReadOnly)
	url := p.lineItemsURL("c1")
	if resp, b := do(t, "GET", url, tok, MediaLineItemContainer, "", ""); resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	p.ExpireTokens()
	resp, _ := do(t, "GET", url, tok, MediaLineItemContainer, "", "")
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	p.InjectFault(Fault{Service: ServiceToken, Kind: FaultStatus, Status: 400, Body: `{"error":"invalid_client"}`})
	if st, m := ft.tokenRequest(ft.tokenForm(ft.sign(ft.assertionClaims()), ScopeScore)); st != 400 || m["error"] != "invalid_client" {
		t.Fatalf("refusal fault: %d %v", st, m)
	}
	ft.accessToken(ScopeScore) // fault consumed
}

func TestAGS(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	p.SetMembers("c1", []Member{{UserID: "u1", Roles: []string{RoleLearner}}, {UserID: "u2"}})
	rw := ft.accessToken(ScopeLineItem, ScopeScore, ScopeResultReadOnly)
	ro := ft.accessToken(ScopeLineItemReadOnly)
	container := p.lineItemsURL("c1")

	// Create: validation and media types.
	createTests := []struct {
		name, token, ct, body string
		want                  int
	}{
		{"no token", "", MediaLineItem, `{"label":"A","scoreMaximum":10}`, 401},
		{"read-only token", ro, MediaLineItem, `{"label":"A","scoreMaximum":10}`, 401},
		{"charset suffix", rw, MediaLineItem + "; charset=utf-8", `{"label":"A","scoreMaximum":10}`, 415},
		{"json type", rw, "application/json", `{"label":"A","scoreMaximum":10}`, 415},
		{"no label", rw, MediaLineItem, `{"scoreMaximum":10}`, 400},
		{"zero max", rw, MediaLineItem, `{"label":"A","scoreMaximum":0}`, 400},
		{"no max", rw, MediaLineItem, `{"label":"A"}`, 400},
		{"string max", rw, MediaLineItem, `{"label":"A","scoreMaximum":"10"}`, 400},
		{"bad date", rw, MediaLineItem, `{"label":"A","scoreMaximum":10,"endDateTime":"tomorrow"}`, 400},
		{"ok", rw, MediaLineItem, `{"label":"Quiz 1","scoreMaximum":10,"resourceId":"q1","tag":"grade","resourceLinkId":"rl-1"}`, 201},
	}
	var created LineItem
	for _, tt := range createTests {
		resp, b := do(t, "POST", container, tt.token, "", tt.ct, tt.body)
		if resp.StatusCode != tt.want {
			t.Fatalf("create %s: %d %s, want %d", tt.name, resp.StatusCode, b, tt.want)
		}
		if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("create %s: 401 without WWW-Authenticate", tt.name)
		}
		if tt.want == 201 {
			_ = json.Unmarshal(b, &created)
		}
	}
	if !strings.HasPrefix(created.ID, container+"/") || created.Label != "Quiz 1" {
		t.Fatalf("created %+v", created)
	}
	for i := 2; i <= 5; i++ {
		do(t, "POST", container, rw, "", MediaLineItem, fmt.Sprintf(`{"label":"Quiz %d","scoreMaximum":5,"tag":"t%d"}`, i, i%2))
	}

	// List: filters and paging.
	resp, b := do(t, "GET", container+"?resource_id=q1", ro, MediaLineItemContainer, "", "")
	var items []LineItem
	if _ = json.Unmarshal(b, &items); resp.StatusCode != 200 || len(items) != 1 || items[0].ID != created.ID {
		t.Fatalf("filter: %d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("Content-Type") != MediaLineItemContainer {
		t.Errorf("container content type %q", resp.Header.Get("Content-Type"))
	}
	if resp, _ := do(t, "GET", container, ro, "application/json", "", ""); resp.StatusCode != 406 {
		t.Errorf("wrong Accept: %d", resp.StatusCode)
	}
	next, pages, total := container+"?limit=2", 0, 0
	for next != "" && pages < 10 {
		resp, b := do(t, "GET", next, ro, MediaLineItemContainer, "", "")
		var page []LineItem
		_ = json.Unmarshal(b, &page)
		total += len(page)
		pages++
		next = nextLink(resp.Header.Get("Link"))
	}
	if pages != 3 || total != 5 {
		t.Fatalf("paging: %d pages, %d items", pages, total)
	}
	p.InjectFault(Fault{Service: ServiceAGS, Kind: FaultPagingLoop})
	resp, _ = do(t, "GET", container+"?limit=2&page=2", ro, MediaLineItemContainer, "", "")
	if got := nextLink(resp.Header.Get("Link")); !strings.Contains(got, "page=2") {
		t.Fatalf("paging loop link %q", got)
	}

	// Scores.
	scores := created.ID + "/scores"
	ts := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339Nano) }
	scoreTests := []struct {
		name, body string
		want       int
	}{
		{"ok", `{"userId":"u1","scoreGiven":7.5,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(-time.Minute) + `"}`, 200},
		{"above max allowed", `{"userId":"u2","scoreGiven":12,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 200},
		{"no grade", `{"userId":"u2","activityProgress":"Started","gradingProgress":"NotReady","timestamp":"` + ts(time.Second) + `"}`, 200},
		{"negative", `{"userId":"u1","scoreGiven":-1,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"no max", `{"userId":"u1","scoreGiven":1,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"zero max", `{"userId":"u1","scoreGiven":0,"scoreMaximum":0,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"string score", `{"userId":"u1","scoreGiven":"1","scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"no user", `{"scoreGiven":1,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"not member", `{"userId":"u9","activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"bad activity", `{"userId":"u1","activityProgress":"Done","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `"}`, 400},
		{"bad grading", `{"userId":"u1","activityProgress":"Completed","gradingProgress":"Graded","timestamp":"` + ts(0) + `"}`, 400},
		{"no timestamp", `{"userId":"u1","activityProgress":"Completed","gradingProgress":"FullyGraded"}`, 400},
		{"no offset", `{"userId":"u1","activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-01-02T03:04:05"}`, 400},
		{"bad submission", `{"userId":"u1","activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(0) + `","submission":{"startedAt":"x"}}`, 400},
		{"not json", `userId=u1`, 400},
		{"older ignored", `{"userId":"u1","scoreGiven":1,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"` + ts(-time.Hour) + `"}`, 200},
	}
	for _, tt := range scoreTests {
		resp, b := do(t, "POST", scores, rw, "", MediaScore, tt.body)
		if resp.StatusCode != tt.want {
			t.Errorf("score %s: %d %s, want %d", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	if resp, _ := do(t, "POST", scores, ro, "", MediaScore, scoreTests[0].body); resp.StatusCode != 401 {
		t.Errorf("score with read-only token: %d", resp.StatusCode)
	}
	latest, ok := p.LatestScore(created.ID, "u1")
	if !ok || *latest.ScoreGiven != 7.5 {
		t.Fatalf("latest u1 = %+v", latest)
	}
	recs := p.Scores(created.ID)
	if len(recs) != 4 || !recs[3].Ignored {
		t.Fatalf("score records: %+v", recs)
	}

	// Results.
	resp, b = do(t, "GET", created.ID+"/results", rw, MediaResultContainer, "", "")
	var results []map[string]any
	if _ = json.Unmarshal(b, &results); resp.StatusCode != 200 || len(results) != 2 || results[0]["resultScore"] != 7.5 || results[0]["scoreOf"] != created.ID {
		t.Fatalf("results: %d %s", resp.StatusCode, b)
	}

	// PUT, DELETE, and isolation between tools.
	if resp, b := do(t, "PUT", created.ID, rw, "", MediaLineItem, `{"id":"`+created.ID+`","label":"Quiz one","scoreMaximum":20}`); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	other := p.IssueAccessToken("client-2", ScopeLineItem)
	if resp, _ := do(t, "GET", created.ID, other, MediaLineItem, "", ""); resp.StatusCode != 404 {
		t.Errorf("other client sees line item: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", created.ID, rw, "", "", ""); resp.StatusCode != 204 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if got := len(p.LineItems("c1")); got != 4 {
		t.Errorf("%d line items after delete", got)
	}

	// Faults.
	p.InjectFault(Fault{Service: ServiceAGS, Kind: FaultTooManyRequests, RetryAfter: 3, Count: 2})
	for range 2 {
		if resp, _ := do(t, "GET", container, ro, MediaLineItemContainer, "", ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
			t.Fatalf("429 fault: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	p.InjectFault(Fault{Service: ServiceAGS, Kind: FaultGarbageJSON})
	if _, b := do(t, "GET", container, ro, MediaLineItemContainer, "", ""); json.Valid(b) {
		t.Fatal("garbage fault answered JSON")
	}
	p.InjectFault(Fault{Service: ServiceAGS, Kind: FaultServerError})
	if resp, _ := do(t, "GET", container, ro, MediaLineItemContainer, "", ""); resp.StatusCode != 500 {
		t.Fatalf("500 fault: %d", resp.StatusCode)
	}
	p.InjectFault(Fault{Service: ServiceAGS, Kind: FaultSlow, Delay: 50 * time.Millisecond})
	start := time.Now()
	if resp, _ := do(t, "GET", container, ro, MediaLineItemContainer, "", ""); resp.StatusCode != 200 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("slow fault: %d after %v", resp.StatusCode, time.Since(start))
	}
}

func TestServiceQueryKeepsPathInsertable(t *testing.T) {
	p := NewServer(t, Config{SigningKey: testKeys()[0], ServiceQuery: "type_id=3"})
	u := p.AddLineItem("c", "ctx", LineItem{Label: "A", ScoreMaximum: 1})
	if !strings.HasSuffix(u, "/lineitems/li1?type_id=3") {
		t.Fatalf("line item URL %q", u)
	}
	tok := p.IssueAccessToken("c", ScopeScore)
	body := `{"userId":"u","activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-01-02T03:04:05.123Z"}`
	if resp, b := do(t, "POST", strings.Replace(u, "?", "/scores?", 1), tok, "", MediaScore, body); resp.StatusCode != 200 {
		t.Fatalf("scores with path insertion: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do(t, "POST", u+"/scores", tok, "", MediaScore, body); resp.StatusCode == 200 {
		t.Fatal("appending /scores after the query must not work")
	}
}

func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		if strings.Contains(part, `rel="next"`) {
			s := strings.TrimSpace(part)
			return s[1:strings.Index(s, ">")]
		}
	}
	return ""
}

func TestNRPS(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	const n = 50000
	p.SetGeneratedRoster("big", n)
	tok := ft.accessToken(ScopeNRPS)
	if resp, _ := do(t, "GET", p.membershipsURL("big"), ft.accessToken(ScopeScore), MediaMembershipContainer, "", ""); resp.StatusCode != 401 {
		t.Fatalf("wrong scope: %d", resp.StatusCode)
	}
	next, pages, seen, inactive := p.membershipsURL("big")+"?limit=10000", 0, map[string]bool{}, 0
	for next != "" {
		resp, b := do(t, "GET", next, tok, MediaMembershipContainer, "", "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MediaMembershipContainer {
			t.Fatalf("page %d: %d %s", pages, resp.StatusCode, b[:min(len(b), 200)])
		}
		var c struct {
			ID      string
			Context struct{ ID string }
			Members []Member
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if c.Context.ID != "big" {
			t.Fatalf("context %+v", c.Context)
		}
		for _, m := range c.Members {
			seen[m.UserID] = true
			if m.Status == "Inactive" {
				inactive++
			}
		}
		pages++
		next = nextLink(resp.Header.Get("Link"))
	}
	if pages != 5 || len(seen) != n || inactive != (n-1)/50 {
		t.Fatalf("pages %d, members %d, inactive %d", pages, len(seen), inactive)
	}

	p.SetMembers("small", []Member{
		{UserID: "t1", Roles: []string{RoleInstructor}, Name: "Teacher"},
		{UserID: "s1", Roles: []string{RoleLearner}, ResourceLinks: []string{"rl-1"}},
		{UserID: "s2", Roles: []string{RoleLearner}, Status: "Deleted", ResourceLinks: []string{"rl-2"}},
	})
	count := func(q string) int {
		resp, b := do(t, "GET", p.membershipsURL("small")+q, tok, MediaMembershipContainer, "", "")
		var c struct{ Members []Member }
		if err := json.Unmarshal(b, &c); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, b)
		}
		return len(c.Members)
	}
	if got := count(""); got != 3 {
		t.Errorf("all: %d", got)
	}
	if got := count("?role=Learner"); got != 2 {
		t.Errorf("role=Learner: %d", got)
	}
	if got := count("?role=" + strings.ReplaceAll(RoleInstructor, "#", "%23")); got != 1 {
		t.Errorf("role=full URI: %d", got)
	}
	if got := count("?rlid=rl-1"); got != 2 {
		t.Errorf("rlid: %d", got)
	}
	if resp, _ := do(t, "GET", p.membershipsURL("nope"), tok, MediaMembershipContainer, "", ""); resp.StatusCode != 404 {
		t.Errorf("unknown context: %d", resp.StatusCode)
	}
}
