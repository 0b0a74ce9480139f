package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// MediaMembershipContainer is the NRPS 2.0 membership container type. (Asking
// Moodle for application/vnd.ims.lis.v2.membershipcontainer+json yields the
// LTI 2.0 JSON-LD format instead.)
const MediaMembershipContainer = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

// Member statuses.
const (
	MemberActive   = "Active"
	MemberInactive = "Inactive"
	MemberDeleted  = "Deleted"
)

// Member is one membership of an NRPS answer.
type Member struct {
	UserID             string          `json:"user_id"`
	Status             string          `json:"status,omitempty"`
	Roles              Roles           `json:"roles"`
	Name               string          `json:"name,omitempty"`
	GivenName          string          `json:"given_name,omitempty"`
	FamilyName         string          `json:"family_name,omitempty"`
	MiddleName         string          `json:"middle_name,omitempty"`
	Email              string          `json:"email,omitempty"`
	Picture            string          `json:"picture,omitempty"`
	LISPersonSourcedID string          `json:"lis_person_sourcedid,omitempty"`
	LTI11UserID        string          `json:"lti11_legacy_user_id,omitempty"`
	Message            json.RawMessage `json:"message,omitempty"`
}

// IsActive reports whether the membership counts: status Active, or none.
func (m Member) IsActive() bool { return m.Status == "" || m.Status == MemberActive }

// FullName is name, or given and family names.
func (m Member) FullName() string {
	if m.Name != "" {
		return m.Name
	}
	switch {
	case m.GivenName != "" && m.FamilyName != "":
		return m.GivenName + " " + m.FamilyName
	case m.GivenName != "":
		return m.GivenName
	}
	return m.FamilyName
}

// MembershipContext is the context of a membership container.
type MembershipContext struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"`
	Title string `json:"title,omitempty"`
}

// MembershipsQuery filters a memberships request.
type MembershipsQuery struct {
	// RLID restricts the roster to the members who can access that resource
	// link (and adds their per-link message claims).
	RLID string
	// Role filters by role (a full URI or a short name).
	Role string
	// Limit is the page size to ask for (0: the platform's default).
	Limit int
}

// MembershipsResult sums up a complete listing.
type MembershipsResult struct {
	Context MembershipContext
	Pages   int
	Members int
	// Differences is the rel="differences" URL, when the platform offers one.
	Differences string
}

// MemberBatch is how many members Memberships hands over at once.
const MemberBatch = 500

// Memberships reads the membership container at membershipsURL page by page
// (rel="next"), and calls fn with batches of at most MemberBatch members, so
// memory follows the page size (ask for pages with Limit), never the roster.
// It stops at the first error, fn's included. A listing that failed part-way
// has already handed over some members: callers must not treat absence from
// an incomplete listing as leaving.
func (c *ServiceClient) Memberships(ctx context.Context, membershipsURL string, q MembershipsQuery, fn func([]Member) error) (MembershipsResult, error) {
	params := url.Values{}
	if q.RLID != "" {
		params.Set("rlid", q.RLID)
	}
	if q.Role != "" {
		params.Set("role", q.Role)
	}
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	var res MembershipsResult
	guard := pageGuard{max: c.maxPages()}
	batch := make([]Member, 0, MemberBatch)
	for u := withParams(membershipsURL, params); u != ""; {
		if err := guard.visit(u); err != nil {
			return res, err
		}
		next, diff, err := c.membershipPage(ctx, u, &res, &batch, fn)
		if err != nil {
			return res, err
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return res, err
			}
			batch = batch[:0]
		}
		if diff != "" {
			res.Differences = diff
		}
		res.Pages++
		u = next
	}
	return res, nil
}

func (c *ServiceClient) membershipPage(ctx context.Context, u string, res *MembershipsResult, batch *[]Member, fn func([]Member) error) (next, diff string, err error) {
	resp, err := c.do(ctx, http.MethodGet, u, MediaMembershipContainer, "", nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	maxBytes := c.MaxPageBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	se := &ServiceError{Method: http.MethodGet, URL: u, Status: resp.StatusCode}
	bad := func(err error) error {
		if errors.Is(err, errTooLarge) {
			se.Message = fmt.Sprintf("a page of more than %d bytes", maxBytes)
			return serviceErr(CodeServiceTooLarge, se, "the platform's membership page is too large", "ask the platform for smaller pages, or raise the limit")
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			se.Message = err.Error()
			return serviceErr(CodeServiceRetry, se, "the platform stopped answering in the middle of a page", errServiceFixPlatform)
		}
		se.Message = err.Error()
		return serviceErr(CodeServiceResponse, se, "the platform's membership page is not the JSON NRPS promises", errServiceFixPlatform)
	}
	// The page is read whole before its members are handled: handling them (accounts, enrolments) may take longer
	// than the platform keeps a connection open, or than the client's timeout. The page size is what the tool
	// asked for (limit) and at most maxBytes; memory follows the page, never the roster.
	page, err := io.ReadAll(limitReader(resp.Body, maxBytes))
	resp.Body.Close()
	if err != nil {
		return "", "", bad(err)
	}
	dec := json.NewDecoder(bytes.NewReader(page))
	if err := expectDelim(dec, '{'); err != nil {
		return "", "", bad(err)
	}
	sawMembers := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", "", bad(err)
		}
		key, _ := tok.(string)
		switch key {
		case "context":
			if err := dec.Decode(&res.Context); err != nil {
				return "", "", bad(err)
			}
		case "members":
			sawMembers = true
			if err := expectDelim(dec, '['); err != nil {
				return "", "", bad(err)
			}
			for dec.More() {
				var m Member
				if err := dec.Decode(&m); err != nil {
					return "", "", bad(err)
				}
				if m.UserID == "" {
					return "", "", bad(errors.New("a member without user_id"))
				}
				res.Members++
				*batch = append(*batch, m)
				if len(*batch) == cap(*batch) {
					if err := fn(*batch); err != nil {
						return "", "", err
					}
					*batch = (*batch)[:0]
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return "", "", bad(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", "", bad(err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return "", "", bad(err)
	}
	if !sawMembers {
		return "", "", bad(errors.New("no members array"))
	}
	return NextLink(resp.Header, u), linkRel(resp.Header, u, "differences"), nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, got %v", d, tok)
	}
	return nil
}

var errTooLarge = errors.New("answer too large")

// limitReader reads at most n bytes, then fails with errTooLarge.
func limitReader(r io.Reader, n int64) io.Reader { return &limited{r: r, n: n} }

type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One more byte would tell whether the body really goes on.
		var one [1]byte
		k, _ := l.r.Read(one[:])
		if k > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}
