// Package site holds the site-wide settings an admin controls, such as whether LTI publishing is on.
package site

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/store"
)

// Settings are the site-wide switches.
type Settings struct {
	// PublishingEnabled turns every LTI endpoint on or off.
	PublishingEnabled bool
	// AllowFrameEmbedding lets platforms show ltipub's pages in an iframe.
	AllowFrameEmbedding bool
	// DefaultLanguage is the language of pages when neither the launch, the account nor the browser names one
	// ltipub speaks (a BCP 47 tag: "en", "es").
	DefaultLanguage string
}

// Defaults are the settings of a new site: publishing on, and framing allowed, because most platforms show tools
// in an iframe and a newly installed tool that cannot be framed looks broken.
var Defaults = Settings{PublishingEnabled: true, AllowFrameEmbedding: true, DefaultLanguage: "en"}

// Store keeps named settings as text.
type Store interface {
	Settings(ctx context.Context) (map[string]string, error)
	PutSettings(ctx context.Context, values map[string]string, at time.Time) error
}

// Service reads settings through a short cache: they are read on every request, and written rarely. Another
// instance's change is seen within cacheFor.
type Service struct {
	store    Store
	now      func() time.Time
	cacheFor time.Duration

	mu      sync.Mutex
	cached  Settings
	expires time.Time
}

// NewService builds the settings service; it keeps what it read for cacheFor (zero: 2 s).
func NewService(s Store, cacheFor time.Duration, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if cacheFor <= 0 {
		cacheFor = 2 * time.Second
	}
	return &Service{store: s, now: now, cacheFor: cacheFor}
}

const (
	keyPublishing = "lti_publishing_enabled"
	keyFraming    = "allow_frame_embedding"
	keyLanguage   = "default_language"
)

// Get returns the current settings.
func (s *Service) Get(ctx context.Context) (Settings, error) {
	s.mu.Lock()
	if s.now().Before(s.expires) {
		v := s.cached
		s.mu.Unlock()
		return v, nil
	}
	s.mu.Unlock()

	values, err := s.store.Settings(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Settings{}, fmt.Errorf("load site settings: %w", err)
	}
	v := Defaults
	v.PublishingEnabled = boolOr(values[keyPublishing], v.PublishingEnabled)
	v.AllowFrameEmbedding = boolOr(values[keyFraming], v.AllowFrameEmbedding)
	if l := values[keyLanguage]; l != "" {
		v.DefaultLanguage = l
	}

	s.mu.Lock()
	s.cached, s.expires = v, s.now().Add(s.cacheFor)
	s.mu.Unlock()
	return v, nil
}

// Put saves the settings; this instance sees them at once.
func (s *Service) Put(ctx context.Context, v Settings) error {
	err := s.store.PutSettings(ctx, map[string]string{
		keyPublishing: strconv.FormatBool(v.PublishingEnabled),
		keyFraming:    strconv.FormatBool(v.AllowFrameEmbedding),
		keyLanguage:   v.DefaultLanguage,
	}, s.now())
	if err != nil {
		return fmt.Errorf("save site settings: %w", err)
	}
	s.mu.Lock()
	s.cached, s.expires = v, s.now().Add(s.cacheFor)
	s.mu.Unlock()
	return nil
}

func boolOr(s string, def bool) bool {
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return def
}
