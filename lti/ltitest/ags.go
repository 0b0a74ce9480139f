package ltitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LineItem is an AGS line item. ID is its URL.
type LineItem struct {
	ID             string  `json:"id,omitempty"`
	Label          string  `json:"label"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
	ResourceID     string  `json:"resourceId,omitempty"`
	Tag            string  `json:"tag,omitempty"`
	StartDateTime  string  `json:"startDateTime,omitempty"`
	EndDateTime    string  `json:"endDateTime,omitempty"`
	GradesReleased *bool   `json:"gradesReleased,omitempty"`
	// SubmissionReview makes the gradebook offer a review of learners' results (LtiSubmissionReviewRequest).
	SubmissionReview *SubmissionReview `json:"submissionReview,omitempty"`
}

// Score is a validated score as posted by the tool.
type Score struct {
	UserID           string
	ScoreGiven       *float64
	ScoreMaximum     *float64
	Comment          string
	Timestamp        time.Time
	ActivityProgress string
	GradingProgress  string
	// Raw is the JSON body as received.
	Raw json.RawMessage
}

// ScoreRecord is a score received for a line item.
type ScoreRecord struct {
	Score
	ClientID string
	Received time.Time
	// Ignored is set when the timestamp was not after the user's latest
	// score, so the platform ignored it (AGS: the platform must ignore
	// older scores).
	Ignored bool
}

type lineItemState struct {
	key       string
	contextID string
	clientID  string
	item      LineItem
	scores    []ScoreRecord
	latest    map[string]int // userId -> index into scores
}

func (p *Platform) withQuery(u string) string {
	if p.cfg.ServiceQuery == "" {
		return u
	}
	return u + "?" + p.cfg.ServiceQuery
}

func (p *Platform) lineItemsURL(contextID string) string {
	return p.withQuery(p.BaseURL() + "/ags/" + url.PathEscape(contextID) + "/lineitems")
}

func (p *Platform) lineItemURLLocked(contextID, key string) string {
	u := p.baseURL + "/ags/" + url.PathEscape(contextID) + "/lineitems/" + url.PathEscape(key)
	if p.cfg.ServiceQuery != "" {
		u += "?" + p.cfg.ServiceQuery
	}
	return u
}

// AddLineItem creates a line item in a context owned by clientID, as the
// platform would for a gradable link, and returns its URL.
func (p *Platform) AddLineItem(clientID, contextID string, li LineItem) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addLineItemLocked(clientID, contextID, li)
}

func (p *Platform) addLineItemLocked(clientID, contextID string, li LineItem) string {
	key := p.nextIDLocked("li")
	li.ID = p.lineItemURLLocked(contextID, key)
	p.lineItems[key] = &lineItemState{key: key, contextID: contextID, clientID: clientID, item: li, latest: map[string]int{}}
	p.lineItemOrder = append(p.lineItemOrder, key)
	return li.ID
}

// LineItems returns the line items of a context, in creation order.
func (p *Platform) LineItems(contextID string) []LineItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []LineItem
	for _, k := range p.lineItemOrder {
		if s := p.lineItems[k]; s != nil && s.contextID == contextID {
			out = append(out, s.item)
		}
	}
	return out
}

// Scores returns every valid score received for the line item URL.
func (p *Platform) Scores(lineItemURL string) []ScoreRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.lineItems {
		if s.item.ID == lineItemURL || strings.SplitN(s.item.ID, "?", 2)[0] == strings.SplitN(lineItemURL, "?", 2)[0] {
			return slices.Clone(s.scores)
		}
	}
	return nil
}

// LatestScore returns the current score of a user for a line item.
func (p *Platform) LatestScore(lineItemURL, userID string) (ScoreRecord, bool) {
	for _, s := range slices.Backward(p.Scores(lineItemURL)) {
		if s.UserID == userID && !s.Ignored {
			return s, true
		}
	}
	return ScoreRecord{}, false
}

// serviceError writes a JSON error.
func serviceError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, "application/json", map[string]string{"error": http.StatusText(status), "error_description": fmt.Sprintf(format, args...)})
}

// checkAccept requires the Accept header to name mediaType (or */*).
func checkAccept(w http.ResponseWriter, r *http.Request, mediaType string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == mediaType || mt == "*/*") {
			return true
		}
	}
	serviceError(w, http.StatusNotAcceptable, "Accept must be %s, got %q", mediaType, r.Header.Get("Accept"))
	return false
}

// checkContentType requires exactly mediaType, without parameters, as Moodle
// does.
func checkContentType(w http.ResponseWriter, r *http.Request, mediaType string) bool {
	if ct := r.Header.Get("Content-Type"); ct != mediaType {
		serviceError(w, http.StatusUnsupportedMediaType, "Content-Type must be exactly %s, got %q", mediaType, ct)
		return false
	}
	return true
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		serviceError(w, http.StatusRequestEntityTooLarge, "read body: %v", err)
		return nil, false
	}
	return b, true
}

// pageParams reads limit and page (1-based).
func (p *Platform) pageParams(w http.ResponseWriter, r *http.Request, maxLimit int) (limit, page int, ok bool) {
	q := r.URL.Query()
	if p.cfg.Links == LinkNone {
		return 0, 1, true // the whole container, whatever the tool asked for
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			serviceError(w, http.StatusBadRequest, "limit must be a positive integer, got %q", s)
			return 0, 0, false
		}
		limit = n
	}
	if maxLimit > 0 && (limit == 0 || limit > maxLimit) {
		limit = maxLimit
	}
	page = 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			serviceError(w, http.StatusBadRequest, "page must be a positive integer, got %q", s)
			return 0, 0, false
		}
		page = n
	}
	return limit, page, true
}

// setPageLinks sets Link headers for a page; loop makes next point to the
// current page.
func (p *Platform) setPageLinks(w http.ResponseWriter, r *http.Request, limit, page, total int, loop bool) {
	if limit <= 0 {
		return
	}
	link := func(pg int) string {
		u := *r.URL
		q := u.Query()
		q.Set("limit", strconv.Itoa(limit))
		q.Set("page", strconv.Itoa(pg))
		u.RawQuery = q.Encode()
		return p.BaseURL() + u.RequestURI()
	}
	rel := `<%s>; rel="%s"`
	if p.cfg.Links == LinkCurly {
		rel = "<%s>; rel=“%s”"
	}
	var links []string
	links = append(links, fmt.Sprintf(rel, link(1), "first"))
	switch {
	case loop:
		links = append(links, fmt.Sprintf(rel, link(page), "next"))
	case page*limit < total:
		links = append(links, fmt.Sprintf(rel, link(page+1), "next"))
	}
	if page > 1 {
		links = append(links, fmt.Sprintf(rel, link(page-1), "prev"))
	}
	w.Header().Set("Link", strings.Join(links, ", "))
}

// parseLineItem decodes and validates a line item body.
func parseLineItem(b []byte) (LineItem, error) {
	var li LineItem
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&li); err != nil {
		return li, fmt.Errorf("line item JSON: %w", err)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	if _, ok := raw["scoreMaximum"]; !ok {
		return li, fmt.Errorf("scoreMaximum is required")
	}
	if strings.TrimSpace(li.Label) == "" {
		return li, fmt.Errorf("label is required")
	}
	if !(li.ScoreMaximum > 0) {
		return li, fmt.Errorf("scoreMaximum must be > 0, got %v", li.ScoreMaximum)
	}
	if err := li.SubmissionReview.validate(); err != nil {
		return li, err
	}
	for name, v := range map[string]string{"startDateTime": li.StartDateTime, "endDateTime": li.EndDateTime} {
		if v != "" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return li, fmt.Errorf("%s must be ISO 8601 with offset: %q", name, v)
			}
		}
	}
	return li, nil
}

func (p *Platform) handleLineItems(w http.ResponseWriter, r *http.Request) {
	handled, loop := p.applyFault(w, r, ServiceAGS, r.Method == http.MethodGet)
	if handled {
		return
	}
	ctxID := r.PathValue("context")
	switch r.Method {
	case http.MethodGet:
		client, ok := p.authorize(w, r, ScopeLineItem, ScopeLineItemReadOnly)
		if !ok || !checkAccept(w, r, MediaLineItemContainer) {
			return
		}
		limit, page, ok := p.pageParams(w, r, 0)
		if !ok {
			return
		}
		q := r.URL.Query()
		var items []LineItem
		p.mu.Lock()
		for _, k := range p.lineItemOrder {
			s := p.lineItems[k]
			if s == nil || s.contextID != ctxID || s.clientID != client {
				continue
			}
			if v := q.Get("resource_link_id"); v != "" && s.item.ResourceLinkID != v {
				continue
			}
			if v := q.Get("resource_id"); v != "" && s.item.ResourceID != v {
				continue
			}
			if v := q.Get("tag"); v != "" && s.item.Tag != v {
				continue
			}
			items = append(items, s.item)
		}
		p.mu.Unlock()
		total := len(items)
		if limit > 0 {
			start := min((page-1)*limit, total)
			items = items[start:min(start+limit, total)]
		}
		p.setPageLinks(w, r, limit, page, total, loop)
		if items == nil {
			items = []LineItem{}
		}
		writeJSON(w, http.StatusOK, MediaLineItemContainer, items)
	case http.MethodPost:
		client, ok := p.authorize(w, r, ScopeLineItem)
		if !ok || !checkContentType(w, r, MediaLineItem) {
			return
		}
		b, ok := readBody(w, r)
		if !ok {
			return
		}
		li, err := parseLineItem(b)
		if err != nil {
			serviceError(w, http.StatusBadRequest, "%v", err)
			return
		}
		if li.ID != "" {
			serviceError(w, http.StatusBadRequest, "a new line item must not carry an id")
			return
		}
		p.mu.Lock()
		id := p.addLineItemLocked(client, ctxID, li)
		li.ID = id
		p.mu.Unlock()
		w.Header().Set("Location", id)
		writeJSON(w, http.StatusCreated, MediaLineItem, li)
	default:
		w.Header().Set("Allow", "GET, POST")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	}
}

// lineItemFor finds the line item of the request path for client.
func (p *Platform) lineItemFor(w http.ResponseWriter, r *http.Request, client string) (*lineItemState, bool) {
	p.mu.Lock()
	s := p.lineItems[r.PathValue("id")]
	p.mu.Unlock()
	if s == nil || s.contextID != r.PathValue("context") || s.clientID != client {
		serviceError(w, http.StatusNotFound, "no such line item")
		return nil, false
	}
	return s, true
}

func (p *Platform) handleLineItem(w http.ResponseWriter, r *http.Request) {
	if handled, _ := p.applyFault(w, r, ServiceAGS, false); handled {
		return
	}
	switch r.Method {
	case http.MethodGet:
		client, ok := p.authorize(w, r, ScopeLineItem, ScopeLineItemReadOnly)
		if !ok || !checkAccept(w, r, MediaLineItem) {
			return
		}
		s, ok := p.lineItemFor(w, r, client)
		if !ok {
			return
		}
		p.mu.Lock()
		li := s.item
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, MediaLineItem, li)
	case http.MethodPut:
		client, ok := p.authorize(w, r, ScopeLineItem)
		if !ok || !checkContentType(w, r, MediaLineItem) {
			return
		}
		s, ok := p.lineItemFor(w, r, client)
		if !ok {
			return
		}
		b, ok := readBody(w, r)
		if !ok {
			return
		}
		li, err := parseLineItem(b)
		if err != nil {
			serviceError(w, http.StatusBadRequest, "%v", err)
			return
		}
		p.mu.Lock()
		if li.ID != "" && li.ID != s.item.ID {
			p.mu.Unlock()
			serviceError(w, http.StatusBadRequest, "id %q does not match the line item URL", li.ID)
			return
		}
		li.ID = s.item.ID
		s.item = li
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, MediaLineItem, li)
	case http.MethodDelete:
		client, ok := p.authorize(w, r, ScopeLineItem)
		if !ok {
			return
		}
		s, ok := p.lineItemFor(w, r, client)
		if !ok {
			return
		}
		p.mu.Lock()
		delete(p.lineItems, s.key)
		p.lineItemOrder = slices.DeleteFunc(p.lineItemOrder, func(k string) bool { return k == s.key })
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	}
}

// ParseScore validates a score body strictly (AGS 2.0 §Score).
func ParseScore(b []byte) (Score, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return Score{}, fmt.Errorf("score JSON: %w", err)
	}
	if dec.More() {
		return Score{}, fmt.Errorf("score JSON: trailing data")
	}
	sc := Score{Raw: json.RawMessage(b)}
	present := func(k string) bool { v, ok := raw[k]; return ok && string(v) != "null" }
	str := func(k string, required bool) (string, error) {
		if !present(k) {
			if required {
				return "", fmt.Errorf("%s is required", k)
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw[k], &s); err != nil {
			return "", fmt.Errorf("%s must be a string", k)
		}
		if required && s == "" {
			return "", fmt.Errorf("%s must not be empty", k)
		}
		return s, nil
	}
	num := func(k string) (*float64, error) {
		if !present(k) {
			return nil, nil
		}
		var f float64
		if err := json.Unmarshal(raw[k], &f); err != nil {
			return nil, fmt.Errorf("%s must be a number", k)
		}
		return &f, nil
	}
	var err error
	if sc.UserID, err = str("userId", true); err != nil {
		return sc, err
	}
	if sc.ScoreGiven, err = num("scoreGiven"); err != nil {
		return sc, err
	}
	if sc.ScoreMaximum, err = num("scoreMaximum"); err != nil {
		return sc, err
	}
	if sc.ScoreGiven != nil && *sc.ScoreGiven < 0 {
		return sc, fmt.Errorf("scoreGiven must be >= 0, got %v", *sc.ScoreGiven)
	}
	if sc.ScoreGiven != nil && sc.ScoreMaximum == nil {
		return sc, fmt.Errorf("scoreMaximum is required with scoreGiven")
	}
	if sc.ScoreMaximum != nil && !(*sc.ScoreMaximum > 0) {
		return sc, fmt.Errorf("scoreMaximum must be > 0, got %v", *sc.ScoreMaximum)
	}
	if sc.Comment, err = str("comment", false); err != nil {
		return sc, err
	}
	ts, err := str("timestamp", true)
	if err != nil {
		return sc, err
	}
	if sc.Timestamp, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return sc, fmt.Errorf("timestamp must be ISO 8601 with offset (RFC 3339): %q", ts)
	}
	if sc.ActivityProgress, err = str("activityProgress", true); err != nil {
		return sc, err
	}
	if !activityProgressValues[sc.ActivityProgress] {
		return sc, fmt.Errorf("activityProgress %q is not one of Initialized, Started, InProgress, Submitted, Completed", sc.ActivityProgress)
	}
	if sc.GradingProgress, err = str("gradingProgress", true); err != nil {
		return sc, err
	}
	if !gradingProgressValues[sc.GradingProgress] {
		return sc, fmt.Errorf("gradingProgress %q is not one of FullyGraded, Pending, PendingManual, Failed, NotReady", sc.GradingProgress)
	}
	if present("submission") {
		var sub map[string]json.RawMessage
		if err := json.Unmarshal(raw["submission"], &sub); err != nil {
			return sc, fmt.Errorf("submission must be an object")
		}
		for _, k := range []string{"startedAt", "submittedAt"} {
			if v, ok := sub[k]; ok && string(v) != "null" {
				var s string
				if json.Unmarshal(v, &s) != nil {
					return sc, fmt.Errorf("submission.%s must be a string", k)
				}
				if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
					return sc, fmt.Errorf("submission.%s must be ISO 8601 with offset: %q", k, s)
				}
			}
		}
	}
	return sc, nil
}

func (p *Platform) handleScores(w http.ResponseWriter, r *http.Request) {
	if handled, _ := p.applyFault(w, r, ServiceAGS, false); handled {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
		return
	}
	client, ok := p.authorize(w, r, ScopeScore)
	if !ok || !checkContentType(w, r, MediaScore) {
		return
	}
	s, ok := p.lineItemFor(w, r, client)
	if !ok {
		return
	}
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	sc, err := ParseScore(b)
	if err != nil {
		serviceError(w, http.StatusBadRequest, "Incorrect score received: %v", err)
		return
	}
	p.mu.Lock()
	if ro := p.members[s.contextID]; ro != nil && !ro.contains(sc.UserID) {
		p.mu.Unlock()
		serviceError(w, http.StatusBadRequest, "Incorrect score received: user %q is not a member of the context", sc.UserID)
		return
	}
	if p.cfg.ScoresOnlyWhenFullyGraded && sc.GradingProgress != "FullyGraded" {
		sc.ScoreGiven = nil
	}
	rec := ScoreRecord{Score: sc, ClientID: client, Received: p.now()}
	if i, seen := s.latest[sc.UserID]; seen && !sc.Timestamp.After(s.scores[i].Timestamp) {
		rec.Ignored = true
		s.scores = append(s.scores, rec)
		p.mu.Unlock()
		if p.cfg.RejectStaleScores {
			serviceError(w, http.StatusConflict, "Refusing score with an earlier timestamp")
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	s.scores = append(s.scores, rec)
	s.latest[sc.UserID] = len(s.scores) - 1
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

type result struct {
	ID            string   `json:"id"`
	ScoreOf       string   `json:"scoreOf"`
	UserID        string   `json:"userId"`
	ResultScore   *float64 `json:"resultScore,omitempty"`
	ResultMaximum *float64 `json:"resultMaximum,omitempty"`
	Comment       string   `json:"comment,omitempty"`
	Timestamp     string   `json:"timestamp,omitempty"`
}

func (p *Platform) handleResults(w http.ResponseWriter, r *http.Request) {
	handled, loop := p.applyFault(w, r, ServiceAGS, true)
	if handled {
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
		return
	}
	client, ok := p.authorize(w, r, ScopeResultReadOnly)
	if !ok || !checkAccept(w, r, MediaResultContainer) {
		return
	}
	s, ok := p.lineItemFor(w, r, client)
	if !ok {
		return
	}
	limit, page, ok := p.pageParams(w, r, 0)
	if !ok {
		return
	}
	userFilter := r.URL.Query().Get("user_id")
	var out []result
	p.mu.Lock()
	users := make([]string, 0, len(s.latest))
	for u := range s.latest {
		users = append(users, u)
	}
	slices.Sort(users)
	base, query, _ := strings.Cut(s.item.ID, "?")
	for _, u := range users {
		if userFilter != "" && u != userFilter {
			continue
		}
		sc := s.scores[s.latest[u]]
		id := base + "/results/" + url.PathEscape(u)
		if query != "" {
			id += "?" + query
		}
		out = append(out, result{ID: id, ScoreOf: s.item.ID, UserID: u, ResultScore: sc.ScoreGiven,
			ResultMaximum: sc.ScoreMaximum, Comment: sc.Comment, Timestamp: sc.Timestamp.Format(time.RFC3339Nano)})
	}
	p.mu.Unlock()
	total := len(out)
	if limit > 0 {
		start := min((page-1)*limit, total)
		out = out[start:min(start+limit, total)]
	}
	p.setPageLinks(w, r, limit, page, total, loop)
	if out == nil {
		out = []result{}
	}
	writeJSON(w, http.StatusOK, MediaResultContainer, out)
}
