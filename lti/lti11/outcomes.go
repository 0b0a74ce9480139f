package lti11

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/lti"
)

// Basic Outcomes (LTI 1.1 grade passback): POX messages signed with OAuth 1.0a and oauth_body_hash.

// POXNamespace is the namespace of Basic Outcomes messages.
const POXNamespace = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"

// maxOutcomeResponse bounds what is read of a platform's answer.
const maxOutcomeResponse = 1 << 20

type poxRequest struct {
	XMLName   xml.Name `xml:"imsx_POXEnvelopeRequest"`
	NS        string   `xml:"xmlns,attr"`
	Version   string   `xml:"imsx_POXHeader>imsx_POXRequestHeaderInfo>imsx_version"`
	MessageID string   `xml:"imsx_POXHeader>imsx_POXRequestHeaderInfo>imsx_messageIdentifier"`
	Body      poxBody  `xml:"imsx_POXBody"`
}

type poxBody struct {
	Replace *resultRequest `xml:"replaceResultRequest,omitempty"`
	Read    *resultRequest `xml:"readResultRequest,omitempty"`
	Delete  *resultRequest `xml:"deleteResultRequest,omitempty"`
}

type resultRequest struct {
	SourcedID string     `xml:"resultRecord>sourcedGUID>sourcedId"`
	Result    *poxResult `xml:"resultRecord>result,omitempty"`
}

type poxResult struct {
	Language string `xml:"resultScore>language"`
	Score    string `xml:"resultScore>textString"`
}

// FormatScore writes a score as Basic Outcomes wants it: a decimal between 0.0 and 1.0.
func FormatScore(score float64) (string, error) {
	if math.IsNaN(score) || score < 0 || score > 1 {
		return "", fmt.Errorf("score %v is not between 0.0 and 1.0", score)
	}
	s := strconv.FormatFloat(score, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s, nil
}

// ReplaceResultRequest is the POX body of a replaceResultRequest for sourcedID with score (0.0–1.0), under the
// unique messageID.
func ReplaceResultRequest(messageID, sourcedID string, score float64) ([]byte, error) {
	s, err := FormatScore(score)
	if err != nil {
		return nil, err
	}
	return marshalPOX(messageID, poxBody{Replace: &resultRequest{SourcedID: sourcedID, Result: &poxResult{Language: "en", Score: s}}})
}

// ReadResultRequest is the POX body of a readResultRequest.
func ReadResultRequest(messageID, sourcedID string) ([]byte, error) {
	return marshalPOX(messageID, poxBody{Read: &resultRequest{SourcedID: sourcedID}})
}

// DeleteResultRequest is the POX body of a deleteResultRequest.
func DeleteResultRequest(messageID, sourcedID string) ([]byte, error) {
	return marshalPOX(messageID, poxBody{Delete: &resultRequest{SourcedID: sourcedID}})
}

func marshalPOX(messageID string, body poxBody) ([]byte, error) {
	b, err := xml.Marshal(poxRequest{NS: POXNamespace, Version: "V1.0", MessageID: messageID, Body: body})
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// POXRequest is a parsed Basic Outcomes request (what a platform receives).
type POXRequest struct {
	MessageID string
	Operation string // replaceResultRequest, readResultRequest or deleteResultRequest
	SourcedID string
	Score     string // replace only, as sent
}

// ParsePOXRequest reads a Basic Outcomes request body.
func ParsePOXRequest(body []byte) (POXRequest, error) {
	var p poxRequest
	if err := xml.Unmarshal(body, &p); err != nil {
		return POXRequest{}, fmt.Errorf("invalid XML content: %w", err)
	}
	out := POXRequest{MessageID: p.MessageID}
	switch {
	case p.Body.Replace != nil:
		out.Operation, out.SourcedID = "replaceResultRequest", p.Body.Replace.SourcedID
		if p.Body.Replace.Result != nil {
			out.Score = p.Body.Replace.Result.Score
		}
	case p.Body.Read != nil:
		out.Operation, out.SourcedID = "readResultRequest", p.Body.Read.SourcedID
	case p.Body.Delete != nil:
		out.Operation, out.SourcedID = "deleteResultRequest", p.Body.Delete.SourcedID
	default:
		return POXRequest{}, fmt.Errorf("invalid XML content: no known operation")
	}
	return out, nil
}

// POXStatus is the status of a Basic Outcomes response.
type POXStatus struct {
	CodeMajor   string // success, failure, unsupported (processing too)
	Severity    string
	Description string
	MessageRef  string // the request's message identifier
	Operation   string
	Score       string // readResultResponse's score ("" when none)
}

type poxResponse struct {
	XMLName xml.Name `xml:"imsx_POXEnvelopeResponse"`
	Status  struct {
		CodeMajor   string `xml:"imsx_codeMajor"`
		Severity    string `xml:"imsx_severity"`
		Description string `xml:"imsx_description"`
		MessageRef  string `xml:"imsx_messageRefIdentifier"`
		Operation   string `xml:"imsx_operationRefIdentifier"`
	} `xml:"imsx_POXHeader>imsx_POXResponseHeaderInfo>imsx_statusInfo"`
	Score string `xml:"imsx_POXBody>readResultResponse>result>resultScore>textString"`
}

// ParsePOXResponse reads a Basic Outcomes response. A body that is not one is an error.
func ParsePOXResponse(body []byte) (POXStatus, error) {
	var p poxResponse
	if err := xml.Unmarshal(body, &p); err != nil {
		return POXStatus{}, fmt.Errorf("not a Basic Outcomes response: %w", err)
	}
	st := POXStatus{CodeMajor: strings.TrimSpace(p.Status.CodeMajor), Severity: strings.TrimSpace(p.Status.Severity),
		Description: strings.TrimSpace(p.Status.Description), MessageRef: strings.TrimSpace(p.Status.MessageRef),
		Operation: strings.TrimSpace(p.Status.Operation), Score: strings.TrimSpace(p.Score)}
	if st.CodeMajor == "" {
		return POXStatus{}, fmt.Errorf("not a Basic Outcomes response: no imsx_codeMajor")
	}
	return st, nil
}

// POXResponse builds a Basic Outcomes response (for the test consumer).
func POXResponse(messageID, codeMajor, description, refID, operation, readScore string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<imsx_POXEnvelopeResponse xmlns="` + POXNamespace + `"><imsx_POXHeader><imsx_POXResponseHeaderInfo>` +
		`<imsx_version>V1.0</imsx_version><imsx_messageIdentifier>`)
	xml.EscapeText(&b, []byte(messageID))
	b.WriteString(`</imsx_messageIdentifier><imsx_statusInfo><imsx_codeMajor>`)
	xml.EscapeText(&b, []byte(codeMajor))
	b.WriteString(`</imsx_codeMajor><imsx_severity>status</imsx_severity><imsx_description>`)
	xml.EscapeText(&b, []byte(description))
	b.WriteString(`</imsx_description><imsx_messageRefIdentifier>`)
	xml.EscapeText(&b, []byte(refID))
	b.WriteString(`</imsx_messageRefIdentifier><imsx_operationRefIdentifier>`)
	xml.EscapeText(&b, []byte(operation))
	b.WriteString(`</imsx_operationRefIdentifier></imsx_statusInfo></imsx_POXResponseHeaderInfo></imsx_POXHeader><imsx_POXBody>`)
	switch operation {
	case "replaceResultRequest":
		b.WriteString(`<replaceResultResponse/>`)
	case "deleteResultRequest":
		b.WriteString(`<deleteResultResponse/>`)
	case "readResultRequest":
		b.WriteString(`<readResultResponse><result><resultScore><language>en</language><textString>`)
		xml.EscapeText(&b, []byte(readScore))
		b.WriteString(`</textString></resultScore></result></readResultResponse>`)
	}
	b.WriteString(`</imsx_POXBody></imsx_POXEnvelopeResponse>`)
	return b.Bytes()
}

// OutcomeClient sends Basic Outcomes requests.
type OutcomeClient struct {
	HTTP   *http.Client
	Signer *Signer
	// MessageID makes unique message identifiers (default: a random one).
	MessageID func() string
}

// ReplaceResult sets the platform's grade for sourcedID to score (0.0–1.0). A platform's "failure" or
// "unsupported" answer is an error matching lti.ErrServiceRefused whose Description carries the platform's
// imsx_description; 5xx, 429, timeouts and garbage match lti.ErrServiceRetry or lti.ErrServiceResponse (retry).
func (c *OutcomeClient) ReplaceResult(ctx context.Context, serviceURL, sourcedID string, score float64) error {
	id := NewNonce()
	if c.MessageID != nil {
		id = c.MessageID()
	}
	body, err := ReplaceResultRequest(id, sourcedID, score)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, serviceURL, body)
	return err
}

// ReadResult reads the platform's grade for sourcedID ("" when none).
func (c *OutcomeClient) ReadResult(ctx context.Context, serviceURL, sourcedID string) (string, error) {
	body, err := ReadResultRequest(NewNonce(), sourcedID)
	if err != nil {
		return "", err
	}
	st, err := c.do(ctx, serviceURL, body)
	return st.Score, err
}

func (c *OutcomeClient) do(ctx context.Context, serviceURL string, body []byte) (POXStatus, error) {
	auth, err := c.Signer.SignBody(http.MethodPost, serviceURL, body)
	if err != nil {
		return POXStatus{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serviceURL, bytes.NewReader(body))
	if err != nil {
		return POXStatus{}, err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Authorization", auth)
	se := &lti.ServiceError{Method: http.MethodPost, URL: serviceURL}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		se.Message = err.Error()
		return POXStatus{}, &lti.Error{Code: lti.CodeServiceRetry, Description: "the Basic Outcomes service did not answer",
			Fix: "check the platform's status; the sync retries on its own", Err: se}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutcomeResponse))
	se.Status = resp.StatusCode
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 {
			se.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	st, perr := ParsePOXResponse(raw)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		se.Message = snippet(raw)
		return POXStatus{}, &lti.Error{Code: lti.CodeServiceRetry, Description: fmt.Sprintf("the Basic Outcomes service answered %d", resp.StatusCode),
			Fix: "check the platform's status; the sync retries on its own", Err: se}
	case perr != nil && resp.StatusCode >= 400:
		se.Message = snippet(raw)
		return POXStatus{}, &lti.Error{Code: lti.CodeServiceRefused, Description: fmt.Sprintf("the Basic Outcomes service refused the request (%d): %s", resp.StatusCode, snippet(raw)),
			Fix: "check the consumer key and secret in the platform, and that the tool may send grades", Err: se}
	case perr != nil:
		se.Message = snippet(raw)
		return POXStatus{}, &lti.Error{Code: lti.CodeServiceResponse, Description: "the Basic Outcomes service answered something that is not a POX response",
			Fix: "check the platform's status and its outcome service URL; the sync retries on its own", Err: fmt.Errorf("%w (%v)", se, perr)}
	case !strings.EqualFold(st.CodeMajor, "success"):
		desc := st.Description
		if desc == "" {
			desc = "no description"
		}
		se.Message = desc
		return st, &lti.Error{Code: lti.CodeServiceRefused, Description: fmt.Sprintf("the platform answered %s: %s", st.CodeMajor, desc),
			Fix: "read the platform's description; a changed secret, a deleted activity or a grade the platform does not accept are usual causes", Err: se}
	}
	return st, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
