package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/site"
)

type settingsPage struct {
	Page
	Settings  site.Settings
	Languages []i18n.Language
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.cfg.Site.Get(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings", &settingsPage{Page: Page{Title: s.t(r, "ops.settings.title")}, Settings: v, Languages: s.catalog.Languages()})
}

func (s *Server) settingsSubmit(w http.ResponseWriter, r *http.Request) {
	v := site.Settings{
		PublishingEnabled:   r.PostFormValue("publishing_enabled") == "on",
		AllowFrameEmbedding: r.PostFormValue("allow_frame_embedding") == "on",
		DefaultLanguage:     r.PostFormValue("default_language"),
	}
	if v.DefaultLanguage == "" {
		v.DefaultLanguage = site.Defaults.DefaultLanguage
	}
	if !s.catalog.Supported(v.DefaultLanguage) {
		s.renderProblem(w, r, &Problem{Status: http.StatusUnprocessableEntity, Code: "language_unsupported", Title: "This language is not available",
			Cause: fmt.Sprintf("ltipub has no translation for %q.", v.DefaultLanguage), Fix: "Choose one of the languages the list offers."})
		return
	}
	if err := s.cfg.Site.Put(r.Context(), v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "site settings changed", slog.Int64("user_id", currentUser(r).ID),
		slog.Bool("publishing_enabled", v.PublishingEnabled), slog.Bool("allow_frame_embedding", v.AllowFrameEmbedding),
		slog.String("default_language", v.DefaultLanguage))
	s.sessions.Put(r.Context(), "flash", s.t(r, "ops.settings.saved"))
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
}

// unlockSubmit forgets a username's failed sign-ins (account.Service.Unlock), for an owner held up by throttling.
func (s *Server) unlockSubmit(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	if username == "" {
		s.renderProblem(w, r, &Problem{Status: http.StatusBadRequest, Title: "No username",
			Cause: "The unlock form was sent without a username.", Fix: "Type the username to unlock and send the form again.",
			Localize: opsWords("ops.settings.no_username")})
		return
	}
	n, err := s.cfg.Accounts.Unlock(r.Context(), username)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "sign-in unlocked", slog.Int64("user_id", currentUser(r).ID),
		slog.String("username", username), slog.Int("failures", n))
	s.sessions.Put(r.Context(), "flash", s.t(r, "ops.settings.unlocked", "Username", strconv.Quote(username), "Count", n, "N", s.printer(r).N(n)))
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
}
