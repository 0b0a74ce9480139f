package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	refusalpkg "github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/lti"
)

// sessionDeepLink holds a validated content selection request while the teacher signs in and picks.
const sessionDeepLink = "lti_deep_link"

func (s *Server) pendingDeepLink(r *http.Request) (*launch.Launch, error) {
	pl, err := s.readPending(r, sessionDeepLink, &Problem{Status: http.StatusBadRequest, Code: "no_pending_selection",
		Title: "No content selection in progress",
		Cause: "This page continues a content selection from your platform, but this browser has none waiting (it may have been finished already, or cookies may be blocked).",
		Fix:   "Start again from your platform: add an activity and choose ltipub."})
	if err != nil {
		return nil, err
	}
	l, err := s.cfg.Launches.Resumed(r.Context(), pl)
	if err != nil {
		return nil, fmt.Errorf("resume the content selection: %w", err)
	}
	return l, nil
}

type selectionPage struct {
	Page
	fmtHelpers
	Platform   string
	Rows       []publish.Selectable
	Multiple   bool
	LineItems  bool
	NeedSignIn bool
	Username   string
	Error      string
}

func (s *Server) selectionForm(w http.ResponseWriter, r *http.Request) {
	l, err := s.pendingDeepLink(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderSelection(w, r, l, http.StatusOK, "", "")
}

func (s *Server) renderSelection(w http.ResponseWriter, r *http.Request, l *launch.Launch, status int, username, msg string) {
	st := l.Message.DeepLinkingSettings
	p := &selectionPage{Page: Page{Title: s.t(r, "select.page_title")}, Platform: platformName(l), Multiple: st.AcceptsMultiple(),
		LineItems: st.AcceptsLineItem(), Username: username, Error: msg}
	u := currentUser(r)
	if u == nil {
		p.NeedSignIn = true
		s.render(w, r, status, "lti_select", p)
		return
	}
	rows, err := s.cfg.Publish.SelectableResources(r.Context(), u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Rows = rows
	s.render(w, r, status, "lti_select", p)
}

func platformName(l *launch.Launch) string {
	if l.Registration.PlatformName != "" {
		return l.Registration.PlatformName
	}
	return l.Registration.Name
}

// selectionSignIn links an existing account to the platform user; content selection never creates accounts.
func (s *Server) selectionSignIn(w http.ResponseWriter, r *http.Request) {
	l, err := s.pendingDeepLink(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	username := r.PostFormValue("username")
	u, err := s.cfg.Accounts.Authenticate(r.Context(), username, r.PostFormValue("password"))
	if status, msg, ok := signInRefused(err); ok {
		s.renderSelection(w, r, l, status, username, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	linked, err := s.cfg.Publish.LinkForDeepLinking(r.Context(), publish.Launch{Message: l.Message, Registration: l.Registration}, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionUserID, linked.ID)
	http.Redirect(w, r, "/launch/select", http.StatusSeeOther)
}

type deepLinkReturnPage struct {
	Page
	ReturnURL string
	JWT       string
	Heading   string
	Message   string
	Fix       string
	AutoPost  bool
}

// selectionSubmit answers the platform: the picked resources, or nothing when cancelled.
func (s *Server) selectionSubmit(w http.ResponseWriter, r *http.Request) {
	l, err := s.pendingDeepLink(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := currentUser(r)
	if u == nil {
		s.renderSelection(w, r, l, http.StatusUnauthorized, "", s.t(r, "select.error.sign_in"))
		return
	}
	var picks []publish.Pick
	if r.PostFormValue("action") != "cancel" {
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, v := range r.PostForm["resource"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			picks = append(picks, publish.Pick{ResourceID: id, AddToGradebook: r.PostFormValue("gradebook_"+v) == "on"})
		}
		if len(picks) == 0 {
			s.renderSelection(w, r, l, http.StatusBadRequest, "", s.t(r, "select.error.none"))
			return
		}
	}
	resp, err := s.cfg.Publish.DeepLinkResponse(r.Context(), u, l.Message, l.Registration.ClientID, s.cfg.Launches.LaunchURL(), picks)
	var refusal *publish.DeepLinkRefusal
	if errors.As(err, &refusal) {
		if refusal.Kind == refusalpkg.Invalid { // a mistake the teacher can correct here
			s.renderSelection(w, r, l, statusOf(refusal.Kind), "", refusal.Description+" "+refusal.Fix)
			return
		}
		s.deepLinkRefused(w, r, l.Message, l.Registration.ClientID, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The message the platform shows the teacher, in the teacher's language (the domain words it in English).
	if n := len(resp.Items); n == 1 {
		resp.Msg = s.t(r, "deeplink.added_one", "Title", resp.Items[0].Title)
	} else if n > 1 {
		resp.Msg = s.t(r, "deeplink.added", "Count", n)
	}
	jwt, err := s.signDeepLink(r, resp)
	if err != nil {
		s.deepLinkUnsigned(w, r, err)
		return
	}
	s.sessions.Remove(r.Context(), sessionDeepLink)
	heading, msg := s.t(r, "deeplink.sending"), resp.Msg
	if len(resp.Items) == 0 {
		heading, msg = s.t(r, "deeplink.cancelled"), s.t(r, "deeplink.cancelled_message")
	}
	s.log.InfoContext(r.Context(), "content selection answered", slog.Int("items", len(resp.Items)), slog.Int64("user_id", u.ID),
		slog.String("issuer", l.Registration.Issuer))
	s.render(w, r, http.StatusOK, "lti_deeplink_return", &deepLinkReturnPage{Page: Page{Title: heading},
		ReturnURL: l.Message.DeepLinkingSettings.DeepLinkReturnURL, JWT: jwt, Heading: heading, Message: msg, AutoPost: true})
}

func (s *Server) signDeepLink(r *http.Request, resp lti.DeepLinkingResponse) (string, error) {
	key, err := s.cfg.Keys.Active(r.Context())
	if err != nil {
		return "", err
	}
	return resp.Sign(key, s.now())
}

func (s *Server) deepLinkUnsigned(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "sign deep linking response", slog.Any("error", err))
	s.renderProblem(w, r, &Problem{Status: http.StatusInternalServerError, Code: "no_signing_key",
		Title: "The selection could not be signed", Cause: "ltipub has no usable signing key, so the platform would not trust its answer.",
		Fix: "A site administrator runs `ltipub keys rotate` (or restarts ltipub serve, which creates a key), then you try again."})
}

// deepLinkRefused explains a refusal and, when the platform can be told, offers to return with errormsg.
func (s *Server) deepLinkRefused(w http.ResponseWriter, r *http.Request, m *lti.Message, clientID string, err error) {
	var refusal *publish.DeepLinkRefusal
	if !errors.As(err, &refusal) {
		s.fail(w, r, err)
		return
	}
	s.log.WarnContext(r.Context(), "content selection refused", slog.String("reason", refusal.Description))
	page := &deepLinkReturnPage{Page: Page{Title: s.t(r, "deeplink.refused"), Embedded: launch.WantsEmbedded(m)},
		Heading: s.t(r, "deeplink.refused"), Message: refusal.Description, Fix: refusal.Fix}
	if st := m.DeepLinkingSettings; st != nil && st.DeepLinkReturnURL != "" {
		resp := lti.NewDeepLinkingResponse(m, clientID)
		resp.ErrorMsg, resp.ErrorLog = refusal.Description, "ltipub: "+refusal.Description
		if jwt, err := s.signDeepLink(r, resp); err == nil {
			page.ReturnURL, page.JWT = st.DeepLinkReturnURL, jwt
		}
	}
	s.render(w, r, statusOf(refusal.Kind), "lti_deeplink_return", page)
}
