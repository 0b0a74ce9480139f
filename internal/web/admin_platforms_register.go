package web

import (
	"net/http"
	"strings"

	"github.com/ltipub/ltipub/internal/tool"
)

type registeredPage struct {
	Page
	Reg tool.Registration
}

// ltiRegister is the dynamic registration URL: the platform opens it (in an iframe or a popup) with its
// openid_configuration and registration_token. On success the page tells the platform to close the dialog.
func (s *Server) ltiRegister(w http.ResponseWriter, r *http.Request) {
	allowAnyFramer(w)
	q := r.URL.Query()
	reg, err := s.cfg.Platforms.Register(r.Context(), tool.DynamicRegistration{Token: r.PathValue("token"),
		ConfigurationURL: q.Get("openid_configuration"), RegistrationToken: q.Get("registration_token")})
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_platform_registered", &registeredPage{Page: Page{Title: s.t(r, "platforms.registered.page_title"), Embedded: true}, Reg: reg})
}

// allowAnyFramer lets any site frame this response, whatever the site's framing setting: the platform opens the
// registration URL in its own dialog before ltipub knows the platform's origin (the configuration names the
// issuer, not the admin's page), and the page has nothing to click, so framing cannot be abused.
func allowAnyFramer(w http.ResponseWriter) {
	h := w.Header()
	h.Del("X-Frame-Options")
	parts := strings.Split(h.Get("Content-Security-Policy"), ";")
	for i, p := range parts {
		if strings.HasPrefix(strings.TrimSpace(p), "frame-ancestors") {
			parts[i] = " frame-ancestors *"
		}
	}
	h.Set("Content-Security-Policy", strings.Join(parts, ";"))
}
