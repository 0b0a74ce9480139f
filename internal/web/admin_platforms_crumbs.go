package web

// This file only bridges until h-i18n-ops' Page.AdminCrumbs (admin_index.go, with the breadcrumb's landmark name)
// is merged: the platform templates call it the same way. Delete this file then.

// AdminCrumbs is adminCrumbs in the page's language: Site administration first, then label, URL pairs and the
// page itself ({{template "breadcrumb" (.AdminCrumbs (.T "platforms.title") "/admin/platforms" .Reg.Name "")}}).
func (p *Page) AdminCrumbs(pairs ...string) []crumb {
	out := adminCrumbs(pairs...)
	if p.tr != nil {
		out[0].Label = p.tr.T("layout.site_admin")
	}
	return out
}
