package lti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Media types of the Assignment and Grade Services. Platforms such as Moodle
// compare them exactly: no parameters, one value per header.
const (
	MediaLineItem          = "application/vnd.ims.lis.v2.lineitem+json"
	MediaLineItemContainer = "application/vnd.ims.lis.v2.lineitemcontainer+json"
	MediaScore             = "application/vnd.ims.lis.v1.score+json"
	MediaResultContainer   = "application/vnd.ims.lis.v2.resultcontainer+json"
)

// Activity and grading progress values of a score.
const (
	ActivityInitialized = "Initialized"
	ActivityStarted     = "Started"
	ActivityInProgress  = "InProgress"
	ActivitySubmitted   = "Submitted"
	ActivityCompleted   = "Completed"

	GradingFullyGraded   = "FullyGraded"
	GradingPending       = "Pending"
	GradingPendingManual = "PendingManual"
	GradingFailed        = "Failed"
	GradingNotReady      = "NotReady"
)

// AGSLineItem is a line item (a gradebook column). ID is its URL.
type AGSLineItem struct {
	ID             string  `json:"id,omitempty"`
	Label          string  `json:"label"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
	ResourceID     string  `json:"resourceId,omitempty"`
	Tag            string  `json:"tag,omitempty"`
	StartDateTime  string  `json:"startDateTime,omitempty"`
	EndDateTime    string  `json:"endDateTime,omitempty"`
	// SubmissionReview, when set, tells the platform it may open a learner's work in the tool from its gradebook
	// (an LtiSubmissionReviewRequest).
	SubmissionReview *SubmissionReview `json:"submissionReview,omitempty"`
}

// SubmissionReview is a line item's submissionReview: which of a learner's results may be reviewed in the tool
// (reviewableStatus: activityProgress or gradingProgress values; empty means any), and where the review message
// goes (url; empty means the resource link's own launch URL).
type SubmissionReview struct {
	ReviewableStatus []string          `json:"reviewableStatus,omitempty"`
	Label            string            `json:"label,omitempty"`
	URL              string            `json:"url,omitempty"`
	Custom           map[string]string `json:"custom,omitempty"`
}

// Score is what the tool posts for one user: the user's latest state in the
// line item. A nil ScoreGiven means "no grade" (e.g. submitted, pending).
type Score struct {
	UserID           string
	ScoreGiven       *float64
	ScoreMaximum     float64 // sent with ScoreGiven; must be > 0
	Comment          string
	Timestamp        time.Time
	ActivityProgress string
	GradingProgress  string
}

// MarshalJSON writes the AGS score document; the timestamp has sub-second
// precision and an offset, as the specification asks.
func (s Score) MarshalJSON() ([]byte, error) {
	type doc struct {
		UserID           string   `json:"userId"`
		ScoreGiven       *float64 `json:"scoreGiven,omitempty"`
		ScoreMaximum     *float64 `json:"scoreMaximum,omitempty"`
		Comment          string   `json:"comment,omitempty"`
		Timestamp        string   `json:"timestamp"`
		ActivityProgress string   `json:"activityProgress"`
		GradingProgress  string   `json:"gradingProgress"`
	}
	d := doc{UserID: s.UserID, ScoreGiven: s.ScoreGiven, Comment: s.Comment,
		Timestamp: s.Timestamp.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), ActivityProgress: s.ActivityProgress,
		GradingProgress: s.GradingProgress}
	if s.ScoreGiven != nil || s.ScoreMaximum > 0 {
		m := s.ScoreMaximum
		d.ScoreMaximum = &m
	}
	return json.Marshal(d)
}

func (s Score) validate() error {
	switch {
	case s.UserID == "":
		return errors.New("score: userId is required")
	case s.Timestamp.IsZero():
		return errors.New("score: timestamp is required")
	case s.ActivityProgress == "" || s.GradingProgress == "":
		return errors.New("score: activityProgress and gradingProgress are required")
	case s.ScoreGiven != nil && !(s.ScoreMaximum > 0):
		return errors.New("score: scoreMaximum must be > 0 with scoreGiven")
	case s.ScoreGiven != nil && *s.ScoreGiven < 0:
		return errors.New("score: scoreGiven must be >= 0")
	}
	return nil
}

// Result is a platform's current result for one user in a line item.
type Result struct {
	ID            string   `json:"id"`
	ScoreOf       string   `json:"scoreOf"`
	UserID        string   `json:"userId"`
	ResultScore   *float64 `json:"resultScore,omitempty"`
	ResultMaximum *float64 `json:"resultMaximum,omitempty"`
	Comment       string   `json:"comment,omitempty"`
	Timestamp     string   `json:"timestamp,omitempty"`
}

// LineItemQuery filters a line items container.
type LineItemQuery struct {
	ResourceLinkID string
	ResourceID     string
	Tag            string
	// Limit is the page size to ask for; 0 leaves it to the platform (Moodle
	// then returns everything).
	Limit int
}

// ServiceURL inserts a child path (scores, results) into a line item URL
// before its query: …/lineitem?type_id=3 → …/lineitem/scores?type_id=3.
func ServiceURL(lineItemURL, child string) string {
	base, query, hasQuery := strings.Cut(lineItemURL, "?")
	u := strings.TrimSuffix(base, "/") + "/" + child
	if hasQuery {
		u += "?" + query
	}
	return u
}

func withParams(u string, params url.Values) string {
	if len(params) == 0 {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + params.Encode()
}

// LineItems lists the line items of a container, following rel="next".
func (c *ServiceClient) LineItems(ctx context.Context, containerURL string, q LineItemQuery) ([]AGSLineItem, error) {
	params := url.Values{}
	if q.ResourceLinkID != "" {
		params.Set("resource_link_id", q.ResourceLinkID)
	}
	if q.ResourceID != "" {
		params.Set("resource_id", q.ResourceID)
	}
	if q.Tag != "" {
		params.Set("tag", q.Tag)
	}
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	var out []AGSLineItem
	guard := pageGuard{max: c.maxPages()}
	for u := withParams(containerURL, params); u != ""; {
		if err := guard.visit(u); err != nil {
			return nil, err
		}
		var page []AGSLineItem
		next, err := c.getJSON(ctx, u, MediaLineItemContainer, &page)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		u = next
	}
	return out, nil
}

// CreateLineItem posts a new line item to a container and returns it as the
// platform stored it (with its id).
func (c *ServiceClient) CreateLineItem(ctx context.Context, containerURL string, li AGSLineItem) (AGSLineItem, error) {
	li.ID = ""
	body, err := json.Marshal(li)
	if err != nil {
		return AGSLineItem{}, err
	}
	resp, err := c.do(ctx, http.MethodPost, containerURL, MediaLineItem, MediaLineItem, body)
	if err != nil {
		return AGSLineItem{}, err
	}
	defer resp.Body.Close()
	var out AGSLineItem
	se := &ServiceError{Method: http.MethodPost, URL: containerURL, Status: resp.StatusCode}
	if err := json.NewDecoder(limitReader(resp.Body, c.maxBody())).Decode(&out); err != nil || out.ID == "" {
		if loc := resp.Header.Get("Location"); out.ID == "" && loc != "" {
			out = li
			out.ID = resolveURL(containerURL, loc)
			return out, nil
		}
		se.Message = fmt.Sprintf("no line item with an id in the answer (%v)", err)
		return AGSLineItem{}, serviceErr(CodeServiceResponse, se, "the platform's answer to a new line item is not a line item", errServiceFixPlatform)
	}
	return out, nil
}

// LineItem fetches one line item.
func (c *ServiceClient) LineItem(ctx context.Context, lineItemURL string) (AGSLineItem, error) {
	var li AGSLineItem
	if _, err := c.getJSON(ctx, lineItemURL, MediaLineItem, &li); err != nil {
		return AGSLineItem{}, err
	}
	return li, nil
}

// PostScore sends a score to a line item. Any 2xx is success. A 409 (Moodle:
// "Refusing score with an earlier timestamp") means the platform already
// holds a score at least as new, which for a re-sent score is success too;
// it is reported as ErrStaleScore so callers may tell.
func (c *ServiceClient) PostScore(ctx context.Context, lineItemURL string, s Score) error {
	if err := s.validate(); err != nil {
		return err
	}
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodPost, ServiceURL(lineItemURL, "scores"), "", MediaScore, body)
	if err != nil {
		var se *ServiceError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			return ErrStaleScore
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// ErrStaleScore is PostScore's answer to a 409: the platform keeps a score at
// least as new as the one sent.
var ErrStaleScore = errors.New("lti: the platform already holds a newer score")

// Results lists the results of a line item (userID "" for every user).
func (c *ServiceClient) Results(ctx context.Context, lineItemURL, userID string) ([]Result, error) {
	params := url.Values{}
	if userID != "" {
		params.Set("user_id", userID)
	}
	var out []Result
	guard := pageGuard{max: c.maxPages()}
	for u := withParams(ServiceURL(lineItemURL, "results"), params); u != ""; {
		if err := guard.visit(u); err != nil {
			return nil, err
		}
		var page []Result
		next, err := c.getJSON(ctx, u, MediaResultContainer, &page)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		u = next
	}
	return out, nil
}
