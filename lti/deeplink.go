package lti

import (
	"encoding/json"
	"errors"
	"time"
)

// Deep-linking response claims.
const (
	ClaimDLContentItems = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	ClaimDLData         = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
	ClaimDLMsg          = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
	ClaimDLLog          = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
	ClaimDLErrorMsg     = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
	ClaimDLErrorLog     = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"
)

// ContentItemResourceLink is the content item type for LTI resource links.
const ContentItemResourceLink = "ltiResourceLink"

// DefaultDeepLinkingTTL is the lifetime of a deep-linking response JWT.
const DefaultDeepLinkingTTL = 5 * time.Minute

// DeepLinkingResponse is the tool's answer to an LtiDeepLinkingRequest. Post
// the result of Sign to Settings.DeepLinkReturnURL as the form field "JWT".
type DeepLinkingResponse struct {
	ClientID     string          // iss of the response
	Issuer       string          // the platform: aud of the response
	DeploymentID string          // from the request
	Data         json.RawMessage // settings data, echoed verbatim; omitted when nil
	Items        []ContentItem   // empty means the user cancelled
	Msg          string          // shown to the user on success
	Log          string          // logged by the platform on success
	ErrorMsg     string          // shown to the user on failure
	ErrorLog     string          // logged by the platform on failure
	TTL          time.Duration   // default DefaultDeepLinkingTTL
}

// NewDeepLinkingResponse starts a response to req for the tool registered as
// clientID, copying issuer, deployment and data from the request.
func NewDeepLinkingResponse(req *Message, clientID string) DeepLinkingResponse {
	r := DeepLinkingResponse{ClientID: clientID, Issuer: req.Issuer, DeploymentID: req.DeploymentID}
	if req.DeepLinkingSettings != nil && len(req.DeepLinkingSettings.Data) > 0 && string(req.DeepLinkingSettings.Data) != "null" {
		r.Data = req.DeepLinkingSettings.Data
	}
	return r
}

// ContentItem is one deep-linking content item. For ltiResourceLink set
// Type to ContentItemResourceLink; URL may be empty to use the tool's
// default launch URL. Put the tool's own content ID in Custom so launches
// identify the content even if URLs change.
type ContentItem struct {
	Type       string            `json:"type"`
	URL        string            `json:"url,omitempty"`
	Title      string            `json:"title,omitempty"`
	Text       string            `json:"text,omitempty"`
	Icon       *Image            `json:"icon,omitempty"`
	Thumbnail  *Image            `json:"thumbnail,omitempty"`
	Window     *Window           `json:"window,omitempty"`
	Iframe     *Iframe           `json:"iframe,omitempty"`
	Custom     map[string]string `json:"custom,omitempty"`
	LineItem   *LineItem         `json:"lineItem,omitempty"`
	Available  *TimeSpan         `json:"available,omitempty"`
	Submission *TimeSpan         `json:"submission,omitempty"`
}

// Image is an icon or thumbnail.
type Image struct {
	URL    string `json:"url"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// Window asks the platform to open the item in a new window.
type Window struct {
	TargetName     string `json:"targetName,omitempty"`
	Width          int    `json:"width,omitempty"`
	Height         int    `json:"height,omitempty"`
	WindowFeatures string `json:"windowFeatures,omitempty"`
}

// Iframe asks the platform to embed the item in an iframe.
type Iframe struct {
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

// LineItem asks the platform to create a grade column for the item.
type LineItem struct {
	ScoreMaximum float64 `json:"scoreMaximum"`
	Label        string  `json:"label,omitempty"`
	ResourceID   string  `json:"resourceId,omitempty"`
	Tag          string  `json:"tag,omitempty"`
	// SubmissionReview declares that the platform may open a learner's work in the tool (see AGSLineItem).
	SubmissionReview *SubmissionReview `json:"submissionReview,omitempty"`
}

// TimeSpan is an availability or submission window (RFC 3339 times).
type TimeSpan struct {
	StartDateTime string `json:"startDateTime,omitempty"`
	EndDateTime   string `json:"endDateTime,omitempty"`
}

type deepLinkingClaims struct {
	Issuer       string          `json:"iss"`
	Audience     string          `json:"aud"`
	IssuedAt     int64           `json:"iat"`
	ExpiresAt    int64           `json:"exp"`
	Nonce        string          `json:"nonce"`
	DeploymentID string          `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	MessageType  MessageType     `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version      string          `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	Data         json.RawMessage `json:"https://purl.imsglobal.org/spec/lti-dl/claim/data,omitempty"`
	ContentItems []ContentItem   `json:"https://purl.imsglobal.org/spec/lti-dl/claim/content_items"`
	Msg          string          `json:"https://purl.imsglobal.org/spec/lti-dl/claim/msg,omitempty"`
	Log          string          `json:"https://purl.imsglobal.org/spec/lti-dl/claim/log,omitempty"`
	ErrorMsg     string          `json:"https://purl.imsglobal.org/spec/lti-dl/claim/errormsg,omitempty"`
	ErrorLog     string          `json:"https://purl.imsglobal.org/spec/lti-dl/claim/errorlog,omitempty"`
}

// Claims returns the JWT claims of the response issued at now with the given
// nonce, as a value that marshals to JSON. Sign calls it with a fresh nonce.
func (r DeepLinkingResponse) Claims(now time.Time, nonce string) (any, error) {
	if r.ClientID == "" || r.Issuer == "" || r.DeploymentID == "" {
		return nil, errors.New("lti: DeepLinkingResponse needs ClientID, Issuer and DeploymentID")
	}
	for _, it := range r.Items {
		if it.Type == "" {
			return nil, errors.New("lti: DeepLinkingResponse: content item without type")
		}
		if it.LineItem != nil && !(it.LineItem.ScoreMaximum > 0) {
			return nil, errors.New("lti: DeepLinkingResponse: lineItem.scoreMaximum must be > 0")
		}
	}
	if r.Data != nil && !json.Valid(r.Data) {
		return nil, errors.New("lti: DeepLinkingResponse: Data is not valid JSON")
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultDeepLinkingTTL
	}
	items := r.Items
	if items == nil {
		items = []ContentItem{}
	}
	return deepLinkingClaims{
		Issuer:       r.ClientID,
		Audience:     r.Issuer,
		IssuedAt:     now.Unix(),
		ExpiresAt:    now.Add(ttl).Unix(),
		Nonce:        nonce,
		DeploymentID: r.DeploymentID,
		MessageType:  MessageDeepLinkingResponse,
		Version:      Version,
		Data:         r.Data,
		ContentItems: items,
		Msg:          r.Msg,
		Log:          r.Log,
		ErrorMsg:     r.ErrorMsg,
		ErrorLog:     r.ErrorLog,
	}, nil
}

// Sign returns the response as a signed JWT, issued at now with a fresh
// nonce, for the form field "JWT".
func (r DeepLinkingResponse) Sign(key SigningKey, now time.Time) (string, error) {
	claims, err := r.Claims(now, NewNonce())
	if err != nil {
		return "", err
	}
	return Sign(key, claims)
}
