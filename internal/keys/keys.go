// Package keys manages the tool's own RSA signing keys: generated on first start, kept in the database (so every
// instance signs with the same key and publishes the same JWKS), rotated with an overlap during which the previous
// key stays published, then retired.
package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// Status of a stored key.
const (
	StatusActive   = "active"
	StatusPrevious = "previous"
	StatusRetired  = "retired"
)

// Key is a stored tool key.
type Key struct {
	Signing   lti.SigningKey
	Status    string
	CreatedAt time.Time
	RetireAt  time.Time // for previous keys: when they leave the JWKS
}

// Store keeps the keys.
type Store interface {
	// ToolKeys lists active and previous keys, the active one first.
	ToolKeys(ctx context.Context) ([]Key, error)
	// InsertActiveKey stores k as the active key unless one exists already (store.ErrAlreadyExists).
	InsertActiveKey(ctx context.Context, k Key) error
	// RotateKey atomically turns the active key into a previous one retiring at retireAt and stores next as active.
	RotateKey(ctx context.Context, next Key, retireAt time.Time) error
	// RetireKeys retires previous keys whose overlap ended before now, and returns how many.
	RetireKeys(ctx context.Context, now time.Time) (int, error)
}

// Manager hands out the active signing key and the public JWKS, from a short in-memory cache: keys change rarely,
// and another instance's rotation is seen within cacheFor.
type Manager struct {
	store    Store
	now      func() time.Time
	overlap  time.Duration
	cacheFor time.Duration

	mu      sync.Mutex
	cached  []Key
	jwks    []byte
	expires time.Time
}

// NewManager builds a key manager; overlap is how long a rotated key stays published.
func NewManager(s Store, overlap time.Duration, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{store: s, now: now, overlap: overlap, cacheFor: 30 * time.Second}
}

// Ensure creates the first key if there is none; two instances starting together end with one active key.
func (m *Manager) Ensure(ctx context.Context) error {
	ks, err := m.store.ToolKeys(ctx)
	if err != nil {
		return fmt.Errorf("load tool keys: %w", err)
	}
	if len(ks) > 0 && ks[0].Status == StatusActive {
		return nil
	}
	k, err := lti.GenerateSigningKey()
	if err != nil {
		return err
	}
	err = m.store.InsertActiveKey(ctx, Key{Signing: k, Status: StatusActive, CreatedAt: m.now()})
	if err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("store the first tool key: %w", err)
	}
	m.invalidate()
	return nil
}

// Rotate makes a new active key; the old one stays in the JWKS for the overlap, then retires.
func (m *Manager) Rotate(ctx context.Context) (Key, error) {
	k, err := lti.GenerateSigningKey()
	if err != nil {
		return Key{}, err
	}
	now := m.now()
	next := Key{Signing: k, Status: StatusActive, CreatedAt: now}
	if err := m.store.RotateKey(ctx, next, now.Add(m.overlap)); err != nil {
		return Key{}, fmt.Errorf("rotate tool key: %w", err)
	}
	if _, err := m.store.RetireKeys(ctx, now); err != nil {
		return Key{}, err
	}
	m.invalidate()
	return next, nil
}

// Active returns the key to sign with.
func (m *Manager) Active(ctx context.Context) (lti.SigningKey, error) {
	ks, _, err := m.load(ctx)
	if err != nil {
		return lti.SigningKey{}, err
	}
	if len(ks) == 0 || ks[0].Status != StatusActive {
		return lti.SigningKey{}, errors.New("the tool has no active signing key: run `ltipub keys rotate` or restart ltipub serve")
	}
	return ks[0].Signing, nil
}

// Keys lists the published keys (active first).
func (m *Manager) Keys(ctx context.Context) ([]Key, error) {
	ks, _, err := m.load(ctx)
	return ks, err
}

// JWKS returns the public key set: the active key and previous keys still in their overlap.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	_, jwks, err := m.load(ctx)
	return jwks, err
}

func (m *Manager) load(ctx context.Context) ([]Key, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Before(m.expires) {
		return m.cached, m.jwks, nil
	}
	ks, err := m.store.ToolKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load tool keys: %w", err)
	}
	var published []Key
	var pubs []lti.PublicKey
	for _, k := range ks {
		if k.Status == StatusPrevious && !k.RetireAt.IsZero() && !now.Before(k.RetireAt) {
			continue // overlap over; retired at the next rotation or clean-up
		}
		published = append(published, k)
		pubs = append(pubs, k.Signing.Public())
	}
	jwks, err := lti.PublicJWKS(pubs...)
	if err != nil {
		return nil, nil, err
	}
	m.cached, m.jwks, m.expires = published, jwks, now.Add(m.cacheFor)
	return published, jwks, nil
}

func (m *Manager) invalidate() {
	m.mu.Lock()
	m.expires = time.Time{}
	m.mu.Unlock()
}
