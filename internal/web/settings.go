package web

import (
	"log/slog"
	"net/http"

	"github.com/ltipub/ltipub/internal/site"
)

type settingsPage struct {
	Page
	Settings site.Settings
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.cfg.Site.Get(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "settings", &settingsPage{Page: Page{Title: "Site settings"}, Settings: v})
}

func (s *Server) settingsSubmit(w http.ResponseWriter, r *http.Request) {
	v := site.Settings{
		PublishingEnabled:   r.PostFormValue("publishing_enabled") == "on",
		AllowFrameEmbedding: r.PostFormValue("allow_frame_embedding") == "on",
	}
	if err := s.cfg.Site.Put(r.Context(), v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "site settings changed", slog.Int64("user_id", currentUser(r).ID),
		slog.Bool("publishing_enabled", v.PublishingEnabled), slog.Bool("allow_frame_embedding", v.AllowFrameEmbedding))
	s.sessions.Put(r.Context(), "flash", "Settings saved.")
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
}
