// Package lti11test is a small, strict LTI 1.1 tool consumer (platform) for tests: it signs launches with OAuth
// 1.0a as Moodle does, and serves a Basic Outcomes endpoint and a memberships extension endpoint that check the
// signature, the timestamp, the nonce and (for POX) the body hash before answering. Its LTI 2.0 side (lti2.go)
// registers tools by tool proxy: a tool consumer profile, signed registration requests, a strict ToolProxy
// service, and launches and Basic Outcomes with the agreed credentials.
package lti11test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// OutcomeMode says how the Basic Outcomes endpoint answers a request that passed its checks.
type OutcomeMode int

const (
	// OutcomeSuccess stores the score and answers success.
	OutcomeSuccess OutcomeMode = iota
	// OutcomeFailure answers imsx_codeMajor failure with a description.
	OutcomeFailure
	// OutcomeGarbage answers 200 with a body that is not XML.
	OutcomeGarbage
	// OutcomeServerError answers 503.
	OutcomeServerError
)

// Consumer is an LTI 1.1 consumer with one consumer key and secret.
type Consumer struct {
	Key          string
	Secret       string
	InstanceGUID string
	InstanceName string
	// Method signs launches (default HMAC-SHA1).
	Method string
	// Now is the consumer's clock (default time.Now): set it to skew the timestamps it signs.
	Now func() time.Time

	srv *httptest.Server

	mu          sync.Mutex
	outcomeMode OutcomeMode
	failureText string
	scores      map[string]string // sourcedid → last score text
	outcomeLog  []OutcomeRequest
	rosters     map[string][]lti11.Member // memberships id → members
	rosterCalls int
	nonces      map[string]bool
	rejected    []string
	lti2        lti2State // lti2.go
}

// OutcomeRequest is a Basic Outcomes request the endpoint accepted.
type OutcomeRequest struct {
	lti11.POXRequest
	ContentType string
}

// New starts a consumer's service endpoints; they stop when the test ends.
func New(t interface {
	Cleanup(func())
	Helper()
}, key, secret string) *Consumer {
	t.Helper()
	c := &Consumer{Key: key, Secret: secret, InstanceGUID: "lms.example.com", InstanceName: "Example LMS",
		scores: map[string]string{}, rosters: map[string][]lti11.Member{}, nonces: map[string]bool{},
		lti2: lti2State{pending: map[string]string{}, proxies: map[string]*ToolProxyRecord{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /outcomes", c.outcomes)
	mux.HandleFunc("POST /memberships", c.memberships)
	mux.HandleFunc("GET /lti2/profile", c.profile)
	mux.HandleFunc("POST /lti2/toolproxy", c.toolProxyService)
	mux.HandleFunc("GET /lti2/register", c.registrationPage)
	mux.HandleFunc("GET /lti2/registration-return", c.registrationReturn)
	mux.HandleFunc("GET /lti2/launch", c.launchPage)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(c.srv.Close)
	return c
}

// OutcomeServiceURL is the consumer's lis_outcome_service_url.
func (c *Consumer) OutcomeServiceURL() string { return c.srv.URL + "/outcomes" }

// MembershipsURL is the consumer's ext_ims_lis_memberships_url.
func (c *Consumer) MembershipsURL() string { return c.srv.URL + "/memberships" }

func (c *Consumer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// LaunchParams are the parameters of a launch, before signing. Base gives the usual ones for user and roles.
func (c *Consumer) LaunchParams(resourceLinkID, userID, roles string) lti11.Params {
	return lti11.Pairs("lti_message_type", lti11.MessageLaunch, "lti_version", lti11.Version1p0,
		"resource_link_id", resourceLinkID, "resource_link_title", "Link "+resourceLinkID,
		"user_id", userID, "roles", roles,
		"lis_person_name_given", "User", "lis_person_name_family", userID, "lis_person_name_full", "User "+userID,
		"lis_person_contact_email_primary", "user"+userID+"@lms.example.com",
		"context_id", "course-1", "context_title", "Course One", "context_label", "C1",
		"tool_consumer_instance_guid", c.InstanceGUID, "tool_consumer_instance_name", c.InstanceName,
		"tool_consumer_info_product_family_code", "moodle", "ext_lms", "moodle-2",
		"launch_presentation_locale", "en", "launch_presentation_document_target", "window",
		"oauth_callback", "about:blank")
}

// WithService adds lis_outcome_service_url and lis_result_sourcedid for this consumer's endpoint.
func (c *Consumer) WithService(ps lti11.Params, sourcedID string) lti11.Params {
	return append(ps, lti11.Param{Name: "lis_outcome_service_url", Value: c.OutcomeServiceURL()},
		lti11.Param{Name: "lis_result_sourcedid", Value: sourcedID})
}

// WithMemberships adds ext_ims_lis_memberships_url and ext_ims_lis_memberships_id.
func (c *Consumer) WithMemberships(ps lti11.Params, id string) lti11.Params {
	return append(ps, lti11.Param{Name: "ext_ims_lis_memberships_url", Value: c.MembershipsURL()},
		lti11.Param{Name: "ext_ims_lis_memberships_id", Value: id})
}

// Sign signs a launch form for launchURL (the URL the browser will post to; a query in it is signed too).
func (c *Consumer) Sign(launchURL string, ps lti11.Params) (url.Values, error) {
	s := &lti11.Signer{ConsumerKey: c.Key, Secret: c.Secret, Method: c.Method, Now: c.now}
	return s.SignForm(launchURL, ps)
}

// SetOutcomeMode chooses how the Basic Outcomes endpoint answers.
func (c *Consumer) SetOutcomeMode(m OutcomeMode, failureText string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outcomeMode, c.failureText = m, failureText
}

// Score is the last score the consumer stored for a sourcedid.
func (c *Consumer) Score(sourcedID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.scores[sourcedID]
	return s, ok
}

// Outcomes lists the Basic Outcomes requests the endpoint accepted.
func (c *Consumer) Outcomes() []OutcomeRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]OutcomeRequest(nil), c.outcomeLog...)
}

// Rejected lists why the endpoints refused requests.
func (c *Consumer) Rejected() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.rejected...)
}

// SetRoster sets the members the memberships endpoint lists for id.
func (c *Consumer) SetRoster(id string, members []lti11.Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rosters[id] = members
}

// RosterCalls counts the accepted memberships requests.
func (c *Consumer) RosterCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rosterCalls
}

type nonceMap struct{ c *Consumer }

func (n nonceMap) UseNonce(_ context.Context, key, nonce string, _ time.Time) error {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if n.c.nonces[key+"\x00"+nonce] {
		return lti.ErrNonceReused
	}
	n.c.nonces[key+"\x00"+nonce] = true
	return nil
}

func (c *Consumer) reject(w http.ResponseWriter, status int, msg string) {
	c.mu.Lock()
	c.rejected = append(c.rejected, msg)
	c.mu.Unlock()
	http.Error(w, msg, status)
}

func (c *Consumer) verifier() *lti11.Verifier {
	return &lti11.Verifier{Nonces: nonceMap{c}, Now: c.now}
}

// outcomes is the Basic Outcomes endpoint, as strict as Moodle's service.php: application/xml, OAuth in the
// Authorization header, oauth_body_hash, signature, known consumer key.
func (c *Consumer) outcomes(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		c.reject(w, http.StatusBadRequest, "read body")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "text/xml") {
		c.reject(w, http.StatusBadRequest, "content type "+ct)
		return
	}
	ps, err := lti11.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || ps == nil {
		c.reject(w, http.StatusUnauthorized, "Consumer key is missing.")
		return
	}
	// The consumer's own key, or the GUID of a tool proxy registered over LTI 2.0 (lti2.go).
	secret, ok := c.secretFor(ps.Get("oauth_consumer_key"))
	if !ok {
		c.reject(w, http.StatusUnauthorized, "Invalid consumer key.")
		return
	}
	if err := lti11.VerifyBodyHash(ps, body); err != nil {
		c.reject(w, http.StatusUnauthorized, err.Error())
		return
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	all := append(lti11.FromValues(q), ps...)
	if err := c.verifier().Verify(r.Context(), r.Method, c.srv.URL+r.URL.Path, all, secret); err != nil {
		c.reject(w, http.StatusUnauthorized, "Message signature not valid: "+err.Error())
		return
	}
	req, err := lti11.ParsePOXRequest(body)
	if err != nil {
		c.reject(w, http.StatusBadRequest, "Invalid XML content")
		return
	}
	c.mu.Lock()
	mode, failure := c.outcomeMode, c.failureText
	c.mu.Unlock()
	switch mode {
	case OutcomeGarbage:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Fatal error: something broke</body></html>")
		return
	case OutcomeServerError:
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	case OutcomeFailure:
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(lti11.POXResponse(lti11.NewNonce(), "failure", failure, req.MessageID, req.Operation, ""))
		return
	}
	if req.Operation == "replaceResultRequest" {
		v, err := strconv.ParseFloat(req.Score, 64)
		if err != nil {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write(lti11.POXResponse(lti11.NewNonce(), "failure", "Score must be numeric", req.MessageID, req.Operation, ""))
			return
		}
		if v < 0 || v > 1 {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write(lti11.POXResponse(lti11.NewNonce(), "failure", "Score not between 0.0 and 1.0", req.MessageID, req.Operation, ""))
			return
		}
	}
	c.mu.Lock()
	c.outcomeLog = append(c.outcomeLog, OutcomeRequest{POXRequest: req, ContentType: ct})
	var read string
	switch req.Operation {
	case "replaceResultRequest":
		c.scores[req.SourcedID] = req.Score
	case "deleteResultRequest":
		delete(c.scores, req.SourcedID)
	case "readResultRequest":
		read = c.scores[req.SourcedID]
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(lti11.POXResponse(lti11.NewNonce(), "success", "Result processed", req.MessageID, req.Operation, read))
}

// memberships is the memberships extension endpoint: a signed form POST.
func (c *Consumer) memberships(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.reject(w, http.StatusBadRequest, "form")
		return
	}
	ps, err := lti11.RequestParams(r)
	if err != nil {
		c.reject(w, http.StatusBadRequest, err.Error())
		return
	}
	if ps.Get("oauth_consumer_key") != c.Key {
		c.reject(w, http.StatusUnauthorized, "Invalid consumer key.")
		return
	}
	if err := c.verifier().Verify(r.Context(), r.Method, c.srv.URL+r.URL.Path, ps, c.Secret); err != nil {
		c.reject(w, http.StatusUnauthorized, err.Error())
		return
	}
	if ps.Get("lti_message_type") != lti11.MessageReadMemberships {
		c.reject(w, http.StatusBadRequest, "lti_message_type "+ps.Get("lti_message_type"))
		return
	}
	c.mu.Lock()
	members, ok := c.rosters[ps.Get("id")]
	c.rosterCalls++
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	if !ok {
		fmt.Fprint(w, `<?xml version="1.0"?><message_response><statusinfo><codemajor>Failure</codemajor><severity>Error</severity>`+
			`<description>Unknown memberships id</description></statusinfo></message_response>`)
		return
	}
	_, _ = w.Write(lti11.MembershipsXML(members))
}
