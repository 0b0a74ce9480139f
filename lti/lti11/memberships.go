package lti11

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ltipub/ltipub/lti"
)

// The LTI 1.1 memberships extension (ext_ims_lis_memberships_url): one signed form POST, one XML roster.

// MessageReadMemberships is the extension's message type.
const MessageReadMemberships = "basic-lis-readmembershipsforcontext"

// Member is one roster entry of the memberships extension.
type Member struct {
	UserID          string `xml:"user_id"`
	Roles           string `xml:"roles"`
	GivenName       string `xml:"person_name_given"`
	FamilyName      string `xml:"person_name_family"`
	FullName        string `xml:"person_name_full"`
	Email           string `xml:"person_contact_email_primary"`
	PersonSourcedID string `xml:"person_sourcedid"`
	ResultSourcedID string `xml:"lis_result_sourcedid"`
	UserImage       string `xml:"user_image"`
}

// RoleList splits the member's comma-separated roles.
func (m Member) RoleList() lti.Roles {
	var out lti.Roles
	for _, r := range strings.Split(m.Roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// MembershipsResponse is the XML answer of the extension.
type MembershipsResponse struct {
	XMLName     xml.Name `xml:"message_response"`
	CodeMajor   string   `xml:"statusinfo>codemajor"`
	Severity    string   `xml:"statusinfo>severity"`
	Description string   `xml:"statusinfo>description"`
	Members     []Member `xml:"memberships>member"`
}

// maxMembershipsResponse bounds a roster (64 MiB).
const maxMembershipsResponse = 64 << 20

// MembershipsClient reads rosters through the memberships extension.
type MembershipsClient struct {
	HTTP   *http.Client
	Signer *Signer
	// MaxBytes bounds the answer (default 64 MiB).
	MaxBytes int64
}

// ReadMemberships posts basic-lis-readmembershipsforcontext with id to serviceURL and returns the roster.
// Failures are *lti.Error values: lti.ErrServiceRetry and lti.ErrServiceResponse are worth retrying,
// lti.ErrServiceRefused is the platform's refusal (its description included).
func (c *MembershipsClient) ReadMemberships(ctx context.Context, serviceURL, id string) ([]Member, error) {
	form, err := c.Signer.SignForm(serviceURL, Params{{"lti_message_type", MessageReadMemberships}, {"lti_version", Version1p0}, {"id", id}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serviceURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	se := &lti.ServiceError{Method: http.MethodPost, URL: serviceURL}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		se.Message = err.Error()
		return nil, &lti.Error{Code: lti.CodeServiceRetry, Description: "the memberships service did not answer",
			Fix: "check the platform's status; the sync retries on its own", Err: se}
	}
	defer resp.Body.Close()
	max := c.MaxBytes
	if max <= 0 {
		max = maxMembershipsResponse
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	se.Status = resp.StatusCode
	if err != nil {
		se.Message = err.Error()
		return nil, &lti.Error{Code: lti.CodeServiceRetry, Description: "the memberships answer was cut short", Err: se}
	}
	if int64(len(raw)) > max {
		return nil, &lti.Error{Code: lti.CodeServiceTooLarge, Description: fmt.Sprintf("the roster is larger than %d bytes", max), Err: se}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		se.Message = snippet(raw)
		return nil, &lti.Error{Code: lti.CodeServiceRetry, Description: fmt.Sprintf("the memberships service answered %d", resp.StatusCode),
			Fix: "check the platform's status; the sync retries on its own", Err: se}
	}
	if resp.StatusCode >= 400 {
		se.Message = snippet(raw)
		return nil, &lti.Error{Code: lti.CodeServiceRefused, Description: fmt.Sprintf("the memberships service refused the request (%d): %s", resp.StatusCode, snippet(raw)),
			Fix: "check the consumer key and secret in the platform, and that the tool may read rosters", Err: se}
	}
	var mr MembershipsResponse
	if err := xml.NewDecoder(bytes.NewReader(raw)).Decode(&mr); err != nil || mr.CodeMajor == "" {
		se.Message = snippet(raw)
		return nil, &lti.Error{Code: lti.CodeServiceResponse, Description: "the memberships service answered something that is not a roster",
			Fix: "check the platform's status; the sync retries on its own", Err: se}
	}
	if !strings.EqualFold(mr.CodeMajor, "success") {
		se.Message = mr.Description
		return nil, &lti.Error{Code: lti.CodeServiceRefused, Description: fmt.Sprintf("the platform answered %s: %s", mr.CodeMajor, mr.Description),
			Fix: "read the platform's description; the roster service may be off for this tool", Err: se}
	}
	return mr.Members, nil
}

// MembershipsXML builds a roster answer (for the test consumer).
func MembershipsXML(members []Member) []byte {
	type resp struct {
		XMLName     xml.Name `xml:"message_response"`
		LTIMessage  string   `xml:"lti_message_type"`
		CodeMajor   string   `xml:"statusinfo>codemajor"`
		Severity    string   `xml:"statusinfo>severity"`
		Description string   `xml:"statusinfo>description"`
		Members     []Member `xml:"memberships>member"`
	}
	b, _ := xml.Marshal(resp{LTIMessage: MessageReadMemberships, CodeMajor: "Success", Severity: "Status", Description: "Roster read", Members: members})
	return append([]byte(xml.Header), b...)
}
